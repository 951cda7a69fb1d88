"""A conversation's Slack thread: created on first need (in its team's channel when a
routing rule or the default team decides one, else the inbox channel), moved to
another team's channel by `/sms route`, replaced when Slack reports it gone. Only jobs
of the conversation's own lane call this, so two parents are never created for one
conversation at once; a parent's post is keyed by the conversation and its thread
epoch (a move's by its job), so a run after a crash finds the one it made."""

from __future__ import annotations

from typing import Any, Protocol

from bridge.config import Business
from bridge.delivery.errors import GiveUp, RetryLater
from bridge.events import ConversationRouted
from bridge.jobs import home_job
from bridge.models import Conversation, utcnow
from bridge.slack.blocks.header_card import render_header
from bridge.slack.blocks.wording import moved_text
from bridge.slack.carried import Carried, Carrying
from bridge.slack.gateway import SlackGateway, ThreadGone
from bridge.slack.posts import Posted, SlackPosts
from bridge.store.base import (
    AwayStore,
    BurstStore,
    ConsentStore,
    ContactStore,
    ConversationStore,
    JobStore,
    RoutingStore,
)
from bridge.threading.opening_hours import opening
from bridge.threading.team_routing import TeamRouting

PARENT = "parent:"  # a parent's post key: parent:<conversation id>:<thread epoch>


class _Store(
    ConversationStore,
    ConsentStore,
    ContactStore,
    AwayStore,
    RoutingStore,
    JobStore,
    BurstStore,
    Protocol,
):
    """The store roles this module uses."""


class ThreadKeeper:
    def __init__(
        self,
        store: _Store,
        posts: SlackPosts,
        inbox_channel: str,
        business: Business,
        routing: TeamRouting,
        gateway: SlackGateway,
    ) -> None:
        self._store = store
        self._business = business
        self._posts = posts
        self._inbox = inbox_channel
        self._routing = routing
        self._gateway = gateway

    async def conversation(self, conversation_id: int) -> Conversation:
        conversation = await self._store.get_conversation(conversation_id)
        if conversation is None:
            raise GiveUp(f"conversation {conversation_id} is not in the store")
        return conversation

    async def ensure(self, conversation: Conversation) -> tuple[str, str]:
        """The (channel, parent ts) of the conversation's thread, posting the parent
        header card first if it has none."""
        channel, ts, _ = await self.open(conversation)
        return channel, ts

    async def open(
        self, conversation: Conversation, carrying: Carrying | None = None
    ) -> tuple[str, str, Carried | None]:
        """`ensure`, and when it posts the parent, with `carrying`'s texts below the card.
        Also says which texts the parent carries (its landed attempt's, after a crash)."""
        if conversation.slack_channel and conversation.slack_thread_ts:
            return conversation.slack_channel, conversation.slack_thread_ts, None
        # The card shows the conversation as it is now: a change made since the job read
        # it (the assistant's flag, while it drafted) has no card to refresh yet.
        conversation = await self.conversation(conversation.id)
        if conversation.slack_channel and conversation.slack_thread_ts:
            return conversation.slack_channel, conversation.slack_thread_ts, None
        # A conversation routed before keeps its team when Slack loses its thread.
        team = conversation.team
        decision = None if team else await self._routing.decide(conversation)
        if decision is not None:
            team = decision.team
            conversation = conversation.model_copy(update={"team": team})
        channel = self._routing.channel(team) if team else self._inbox
        text, blocks = await self.header(conversation)
        key = f"{PARENT}{conversation.id}:{conversation.thread_epoch}"
        detail = ""
        if carrying is not None:
            blocks, detail = [*blocks, *carrying.blocks], carrying.carried.detail()
        parent = await self._posts.post(key, channel, text, blocks=blocks, detail=detail)
        # Its texts are recorded before the thread: a run after a crash in between finds
        # them posted, and this parent (landed under its key) to point the thread at.
        carried = Carried.read(parent.detail)
        if carried is not None:
            await carried.land(self._store, channel, parent.ts, key=key)
        replacing = conversation.slack_thread_ts
        if decision is None:
            changed = await self._store.set_thread(
                conversation.id, channel, parent.ts, replacing=replacing
            )
        else:
            routed = ConversationRouted(
                conversation_id=conversation.id, team=decision.team, rule=decision.rule
            )
            changed = await self._store.route_thread(
                conversation.id, channel, parent.ts, replacing=replacing, routed=routed
            )
        if not changed:
            current = await self.conversation(conversation.id)
            if current.slack_channel and current.slack_thread_ts:
                return current.slack_channel, current.slack_thread_ts, carried
            raise RetryLater("the conversation's thread changed meanwhile")
        await self._store.mark_header_shown(conversation.id, conversation.last_activity_at)
        return channel, parent.ts, carried

    async def being_opened(self, channel: str, ts: str) -> bool:
        """Whether `ts` in `channel` may be a conversation's parent that the store does
        not name yet: a parent post there of unknown outcome, or one landed at `ts` whose
        conversation does not point at it yet (a kill or a busy store in between)."""
        if any(p.key.startswith(PARENT) for p in await self._posts.unsettled_top(channel)):
            return True
        post = await self._posts.landed_at(channel, ts)
        if post is None or not post.key.startswith(PARENT):
            return False
        conversation_id, _, epoch = post.key.removeprefix(PARENT).partition(":")
        conversation = await self._store.get_conversation(int(conversation_id))
        # Pointing at `ts` already: it was, between the caller's look-up and this one.
        return (
            conversation is not None
            and conversation.thread_epoch == int(epoch)
            and conversation.slack_thread_ts in (None, ts)
        )

    def paced(self, conversation: Conversation) -> bool:
        """Whether a post into the conversation's channel (the inbox, for one not
        routed yet) would wait for its turn now."""
        return self._gateway.post_waits(conversation.slack_channel or self._inbox)

    async def move(self, conversation: Conversation, team: str, *, by: str, key: str) -> None:
        """`/sms route`: a new parent in the team's channel, whose first note links the
        old thread; a note in the old thread links the new one; then the conversation
        points at the new thread (compare-and-set), so later texts post there. `key`
        (the job's) names the posts, so a retry after a crash makes none twice."""
        old_channel, old_ts = await self.ensure(conversation)
        conversation = await self.conversation(conversation.id)
        if conversation.team == team:
            return  # done already (a retry), or routed there by its first text
        channel = self._routing.channel(team)
        text, blocks = await self.header(conversation.model_copy(update={"team": team}))
        parent = await self._posts.post(f"parent:{key}", channel, text, blocks=blocks)
        earlier = await self._gateway.permalink(old_channel, old_ts)
        later = await self._gateway.permalink(channel, parent.ts)
        note = moved_text(team, by, later)
        await self._posts.post(f"moved:{key}@{old_ts}", old_channel, note, thread_ts=old_ts)
        routed = ConversationRouted(
            conversation_id=conversation.id, team=team, by=by, earlier_thread=earlier
        )
        if not await self._store.route_thread(
            conversation.id, channel, parent.ts, replacing=old_ts, routed=routed
        ):
            raise RetryLater("the conversation's thread changed meanwhile")
        await self._store.mark_header_shown(conversation.id, conversation.last_activity_at)
        await self._store.enqueue(home_job(), run_at=utcnow())  # App Home links the thread

    async def header(self, conversation: Conversation) -> tuple[str, list[dict[str, Any]]]:
        """The parent card as the conversation, its contact and consent stand now."""
        contact = await self._store.get_contact(conversation.subscriber)
        consent = await self._store.consent_state(
            conversation.business_number, conversation.subscriber, conversation.channel
        )
        away = await self._store.away()
        hours = opening(self._business, conversation.business_number, utcnow(), away)
        return render_header(conversation, contact, consent, hours)

    async def post(
        self,
        conversation: Conversation,
        text: str,
        *,
        key: str,
        broadcast: bool = False,
        blocks: list[dict[str, Any]] | None = None,
        detail: str = "",
        as_person: tuple[str, str] | None = None,
        land: bool = True,
    ) -> Posted:
        """Post into the conversation's thread once per `key` and thread: the landed
        post (its `detail` is what the attempt that landed was told; see `SlackPosts`).
        A thread that vanished is forgotten and the job retried, to post under a new
        parent."""
        channel, thread_ts = await self.ensure(conversation)
        try:
            posted = await self._posts.post(
                f"{key}@{thread_ts}",
                channel,
                text,
                thread_ts=thread_ts,
                broadcast=broadcast,
                blocks=blocks,
                detail=detail,
                as_person=as_person,
                land=land,
            )
        except ThreadGone:
            await self.forget(conversation)
            raise RetryLater("the thread is gone; the next run posts under a new parent") from None
        return posted

    async def forget(self, conversation: Conversation) -> Conversation:
        """Slack says the thread is gone: drop it, so the next post makes a new one."""
        if conversation.slack_thread_ts is not None:
            await self._store.clear_thread(conversation.id, conversation.slack_thread_ts)
        return await self.conversation(conversation.id)
