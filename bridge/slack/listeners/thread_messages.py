"""Bolt listeners: Slack events → the outbound pipeline. They translate and filter
what is not a person's reply; the rules are in `bridge.threading.outbound`."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bridge.ai.learning_desk import LearningDesk
from bridge.events import AttachmentsDropped, ReplyRefused, Snag, Stopped
from bridge.slack.access import InboxAccess
from bridge.slack.blocks.plain_text import to_sms
from bridge.slack.names import SlackNames
from bridge.slack.posts import SlackPosts, ThreadNotRecordedYet
from bridge.slack.threads import ThreadKeeper
from bridge.threading.outbound import OutboundPipeline, Outcome

log = structlog.get_logger(__name__)

# Subtypes that are a person's new message; everything else (joins, topic changes,
# bot_message, …) is never sent.
_NEW_MESSAGE_SUBTYPES = {None, "file_share", "thread_broadcast"}


def _from_bot(message: dict[str, Any]) -> bool:
    return bool(
        message.get("bot_id")
        or message.get("app_id")
        or message.get("bot_profile")
        or message.get("subtype") == "bot_message"
    )


class ThreadMessages:
    def __init__(
        self,
        outbound: OutboundPipeline,
        names: SlackNames,
        posts: SlackPosts,
        threads: ThreadKeeper,
        access: InboxAccess,
        learning: LearningDesk | None = None,
    ) -> None:
        """`learning`: offers to teach the assistant (None: the assistant is off)."""
        self._learning = learning
        self._outbound = outbound
        self._names = names
        self._posts = posts
        self._threads = threads
        self._access = access

    def register(self, app: AsyncApp) -> None:
        app.event("message")(self.on_message)
        app.event("message_metadata_posted")(self.on_metadata)

    async def on_metadata(self, event: dict[str, Any]) -> None:
        """The metadata of a post (for apps that subscribe to the bridge's event type):
        the same echo as the post's `message` event."""
        echo = {
            "metadata": event.get("metadata"),
            "ts": event.get("message_ts"),
            "bot_id": event.get("bot_id"),
        }
        await self._posts.landed_echo(echo)

    async def _plain(self, text: str) -> str:
        return await to_sms(text, self._names.names_now, self._names.channel)

    async def on_message(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        if _from_bot(event):
            await self._posts.landed_echo(event)  # the bridge's own post, echoed
            return
        subtype = event.get("subtype")
        channel = str(event.get("channel", ""))
        if subtype == "message_changed":
            edited = event.get("message") or {}
            before = event.get("previous_message") or {}
            if edited.get("text") == before.get("text"):
                return  # not an edit of the words (a link preview, a reaction count, …)
            if not _from_bot(edited) and edited.get("ts") and edited.get("user"):
                text = await self._plain(str(edited.get("text", "")))
                await self._outbound.edit(channel, str(edited["ts"]), text, by=str(edited["user"]))
        elif subtype == "message_deleted":
            if event.get("deleted_ts"):
                await self._outbound.delete(channel, str(event["deleted_ts"]))
        elif subtype in _NEW_MESSAGE_SUBTYPES:
            await self._on_reply(event, channel, context.bot_user_id)

    async def _on_reply(self, event: dict[str, Any], channel: str, bot_user: str | None) -> None:
        thread_ts, ts, user = event.get("thread_ts"), event.get("ts"), event.get("user")
        if not (thread_ts and ts and user) or thread_ts == ts:
            return  # not a reply in a thread
        conversation = await self._outbound.conversation_of(channel, str(thread_ts))
        if conversation is None:
            # Under the bridge's own post whose ts is not stored yet (its answer lost,
            # or the write still on its way), it may be a conversation: ask again later.
            if event.get("parent_user_id") == bot_user and await self._threads.being_opened(
                channel, str(thread_ts)
            ):
                log.info("slack.reply_before_its_thread", channel=channel)
                raise ThreadNotRecordedYet()
            return  # a thread that is not an SMS conversation
        team = event.get("user_team") or event.get("team")
        if not await self._access.allows(str(user), team=str(team) if team else None):
            log.info("slack.reply_refused", conversation=conversation.id)
            await self._outbound.tell(
                ReplyRefused(
                    conversation_id=conversation.id,
                    author=str(user),
                    problem=Stopped(snag=Snag.NOT_A_MEMBER),
                )
            )
            return
        text = await self._plain(str(event.get("text", "")))
        outcome = await self._outbound.reply(
            conversation, author=str(user), channel=channel, ts=str(ts), text=text
        )
        log.info("slack.reply", conversation=conversation.id, outcome=outcome.value)
        if outcome is Outcome.QUEUED and self._learning is not None:
            await self._learning.offer(conversation, str(user))
        if event.get("files") and outcome in {Outcome.QUEUED, Outcome.EMPTY}:
            await self._outbound.tell(
                AttachmentsDropped(conversation_id=conversation.id, author=str(user))
            )
