"""Job POST_INBOUND: a subscriber's text, escaped, into its conversation's thread,
then its MMS media as files in that thread."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

from bridge.ai.draft_desk import DraftDesk
from bridge.delivery.errors import GiveUp, RetryLater
from bridge.models import Conversation, Job, KeywordMark, Message
from bridge.phones import display
from bridge.slack.blocks.draft_card import with_text
from bridge.slack.blocks.mrkdwn import counted, escape, slack_time
from bridge.slack.gateway import ThreadGone
from bridge.slack.jobs.job_message import job_message
from bridge.slack.posts import SlackPosts
from bridge.slack.threads import ThreadKeeper
from bridge.store.base import ContactStore, MessageStore
from bridge.text import clip
from bridge.threading.attachments import Fetched, MediaRejected
from bridge.threading.away_replies import AwayReplies


class _Store(MessageStore, ContactStore, Protocol):
    """The store roles this module uses."""


def inbound_text(message: Message) -> str:
    """What the thread shows for an inbound text: the text itself, escaped, or for a
    compliance keyword a short system note instead."""
    body = escape(message.body.strip())
    mark = message.keyword
    when = slack_time(message.created_at)
    if mark is KeywordMark.OPT_OUT:
        return f":no_entry_sign: Opted out via {body} · {when}"
    if mark is KeywordMark.OPT_OUT_PHRASE:
        return f":no_entry_sign: Opted out by message “{body}” · {when}"
    if mark is KeywordMark.OPT_IN:
        return f":arrow_forward: Opted back in via {body} · {when}"
    if mark is KeywordMark.HELP:
        return f":information_source: Asked for help via {body} · {when}"
    count = len(message.media)
    text = body or (f":paperclip: {counted(count, 'attachment')}" if count else "_(empty message)_")
    if mark is KeywordMark.MAYBE_OPT_OUT:
        text += "\n:warning: _This may be a request to stop texting. Read it before replying._"
    return text


def quoting(text: str, campaign_text: Message) -> str:
    """A reply to a campaign shows the campaign text it answers above it: only replies
    are posted, never the campaign's texts themselves (one per recipient)."""
    quoted = escape(clip(" ".join(campaign_text.body.split()), 300))
    campaign = f" `{escape(campaign_text.campaign_id)}`" if campaign_text.campaign_id else ""
    return f":mega: _Reply to the campaign{campaign} text:_\n> {quoted}\n{text}"


FetchMedia = Callable[[str], Awaitable[Fetched]]

WITH_DRAFT = "with_draft"  # the text's post carries its draft
CUSTOMER_ICON = ":bust_in_silhouette:"
MAX_POSTER_NAME = 80  # Slack shows a poster's name up to 80 characters
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "video/mp4": "mp4"}


class InboundPoster:
    def __init__(
        self,
        store: _Store,
        posts: SlackPosts,
        threads: ThreadKeeper,
        fetch_media: FetchMedia,
        drafts: DraftDesk,
        away: AwayReplies,
    ) -> None:
        self._store = store
        self._posts = posts
        self._threads = threads
        self._fetch = fetch_media
        self._drafts = drafts
        self._away = away

    async def __call__(self, job: Job) -> None:
        if job.conversation_id is None:
            raise GiveUp("post job without a conversation")
        # Read together: on a busy store each read waits its turn.
        message, conversation = await asyncio.gather(
            job_message(self._store, job), self._threads.conversation(job.conversation_id)
        )
        shown = message.draft is not None and message.draft.slack_ts is not None
        if message.slack_ts is None:
            shown = await self._post_text(message, conversation)
        if shown or not self._drafts.wants_draft(message):
            # The draft is known (or none comes): the away reply may be due. A late draft's
            # job asks instead, once the draft is known.
            await self._away.answer(message.id)
        else:  # a draft that was not ready in time follows the text
            await self._drafts.follow(message)
        if message.media and not message.media_posted:
            await self._attach(message)

    async def _post_text(self, message: Message, conversation: Conversation) -> bool:
        """Post the text, with its draft when that is ready in time: whether it was
        (the landed post says, should an earlier attempt have posted it)."""
        message, as_person = await asyncio.gather(
            self._drafts.draft_for_post(message, conversation), self._poster(message, conversation)
        )
        text = inbound_text(message)
        answered = await self._store.get_message(message.answers) if message.answers else None
        if answered is not None:
            text = quoting(text, answered)
        blocks = with_text(text, message)
        posted = await self._threads.post(
            conversation,
            text,
            key=f"text:{message.id}",
            blocks=blocks,
            detail=WITH_DRAFT if blocks is not None else "",
            as_person=as_person,
            land=False,  # landed with the message's own write, just below
        )
        with_draft = posted.detail == WITH_DRAFT
        async with self._posts.landing(posted.key):
            await self._store.set_message_slack_ts(
                message.id, posted.channel, posted.ts, with_draft=with_draft, landing=posted.key
            )
        return with_draft

    async def _poster(self, message: Message, conversation: Conversation) -> tuple[str, str] | None:
        """A customer's text shows under their name (or number), not the app's; a
        keyword's system note stays the bridge's."""
        if message.keyword is not None and message.keyword.replaces_post:
            return None
        # Read for every text: a contact renamed a moment ago shows under the new name.
        contact = await self._store.get_contact(conversation.subscriber)
        name = contact.name if contact and contact.name else display(conversation.subscriber)
        return clip(name, MAX_POSTER_NAME), CUSTOMER_ICON

    async def _attach(self, message: Message) -> None:
        """Each picture into the thread; one that can't be attached leaves its link and
        the reason instead, and never holds up the text (already posted)."""
        conversation = await self._threads.conversation(message.conversation_id)
        channel, thread_ts = await self._threads.ensure(conversation)
        for number, media in enumerate(message.media, start=1):
            try:
                fetched = await self._fetch(media.url)
            except MediaRejected as exc:
                note = f":paperclip: {escape(media.url)} (not attached: {escape(str(exc))})"
                await self._threads.post(conversation, note, key=f"media:{message.id}:{number}")
                continue
            extension = _EXTENSIONS.get(fetched.content_type, fetched.content_type.split("/")[-1])
            try:
                await self._posts.upload(
                    f"media:{message.id}:{number}@{thread_ts}",
                    channel,
                    thread_ts,
                    filename=f"mms-{number}.{extension}",
                    content=fetched.data,
                )
            except ThreadGone:
                await self._threads.forget(conversation)
                raise RetryLater("the thread is gone; the next run posts anew") from None
        await self._store.mark_media_posted(message.id)
