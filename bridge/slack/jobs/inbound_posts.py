"""Job POST_INBOUND: a subscriber's text, escaped, into its conversation's thread,
then its MMS media as files in that thread. When the channel's pace has held texts up,
those of the conversation waiting behind it ride in the same post (one message, a
section each; in the card that opens the thread, for a new conversation)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from bridge.ai.draft_desk import DraftDesk
from bridge.delivery.errors import GiveUp, RetryLater
from bridge.models import Contact, Conversation, Job, KeywordMark, Message, Rider, utcnow
from bridge.phones import display
from bridge.slack.blocks.burst import (
    DRAFT_BLOCKS,
    DRAFT_CHARS,
    MAX_BLOCKS,
    Block,
    burst,
    text_blocks,
)
from bridge.slack.blocks.draft_card import draft_blocks, with_text
from bridge.slack.blocks.header_card import CARD_BLOCKS, CARD_CHARS
from bridge.slack.blocks.mrkdwn import counted, escape, slack_time
from bridge.slack.carried import Carried, Carrying
from bridge.slack.gateway import ThreadGone
from bridge.slack.posts import SlackPosts
from bridge.slack.threads import ThreadKeeper
from bridge.store.base import BurstStore, MessageStore
from bridge.text import clip
from bridge.threading.attachments import Fetched, MediaRejected
from bridge.threading.away_replies import AwayReplies


class _Store(MessageStore, BurstStore, Protocol):
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


async def shown_text(store: MessageStore, message: Message) -> str:
    """A text as its thread shows it: a campaign reply under what it answers."""
    text = inbound_text(message)
    answered = await store.get_message(message.answers) if message.answers else None
    return quoting(text, answered) if answered is not None else text


async def carried_blocks(store: _Store, channel: str, ts: str) -> list[Block]:
    """The blocks of the texts the message `ts` carries, as their burst was posted (each
    text, then the draft shown with them): what a re-render of the message keeps."""
    blocks: list[Block] = []
    messages = await store.messages_at(channel, ts)
    for message in messages:
        blocks += text_blocks(message, await shown_text(store, message))
    drafted = [m for m in messages if m.draft is not None and m.draft.slack_ts == ts]
    if drafted:
        blocks += draft_blocks(drafted[-1])
    return blocks


FetchMedia = Callable[[str], Awaitable[Fetched]]

WITH_DRAFT = "with_draft"  # the text's post carries its draft
CUSTOMER_ICON = ":bust_in_silhouette:"
MAX_POSTER_NAME = 80  # Slack shows a poster's name up to 80 characters
# A post job older than this has waited for the channel's pace: its conversation's texts
# behind it are looked for, to ride in its post.
BACKLOG_SECONDS = 1.0
MAX_RIDERS = 48  # more than one message holds (a text takes at least 2 of 50 blocks)
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
        if job.message_id is None:
            raise GiveUp(f"{job.kind.value} job without a message")
        # Read together, in one trip: on a busy store each read waits its turn.
        read = await self._store.text_to_post(job.message_id, job.conversation_id)
        message, conversation, contact = read.message, read.conversation, read.contact
        if message is None:
            raise GiveUp(f"message {job.message_id} is not in the store")
        if conversation is None:
            raise GiveUp(f"conversation {job.conversation_id} is not in the store")
        if message.slack_ts is not None:
            if not conversation.slack_thread_ts:
                await self._threads.ensure(conversation)  # its parent carried it (a crash)
            await self._settle([message], message if self._has_draft(message) else None)
            return
        riders = await self._riders(job, conversation)
        if riders:
            texts = await self._shown([message, *(r.message for r in riders)])
            await self._post_burst(texts, riders, conversation, contact)
            return
        # (A run after a crash between a burst's post and its landing finds its riders
        # still waiting, and lands what the post carried: see `_post_burst`.)
        drafted = await self._post_text(message, conversation, contact)
        await self._settle([message], message if drafted else None)

    @staticmethod
    def _has_draft(message: Message) -> bool:
        return message.draft is not None and message.draft.slack_ts is not None

    async def _riders(self, job: Job, conversation: Conversation) -> list[Rider]:
        """The conversation's texts waiting behind this one, when the channel's pace
        holds them (this text waited, or no post may go now); none otherwise, without a
        read: a text that finds the lane idle costs what it always did."""
        waited = (utcnow() - job.created_at).total_seconds() > BACKLOG_SECONDS
        if not waited and not self._threads.paced(conversation):
            return []
        return await self._store.waiting_behind(job, now=utcnow(), limit=MAX_RIDERS)

    async def _settle(self, texts: list[Message], drafted: Message | None) -> None:
        """After the post that shows `texts`: the draft of the latest (`drafted`, when it
        was posted with them) or its late draft, the away reply, and any pictures."""
        latest = next((m for m in reversed(texts) if self._drafts.wants_draft(m)), texts[-1])
        if drafted is not None or not self._drafts.wants_draft(latest):
            # The draft is known (or none comes): the away reply may be due. A late draft's
            # job asks instead, once the draft is known.
            await self._away.answer(latest.id)
        else:  # a draft that was not ready in time follows the text
            await self._drafts.follow(latest)
        for message in texts:
            if message.media and not message.media_posted:
                await self._attach(message)

    async def _shown(self, messages: list[Message]) -> list[tuple[Message, str]]:
        return [(m, await shown_text(self._store, m)) for m in messages]

    async def _post_burst(
        self,
        texts: list[tuple[Message, str]],
        riders: list[Rider],
        conversation: Conversation,
        contact: Contact | None,
    ) -> None:
        """Post the texts that fit one message, oldest first, with the latest one's
        draft: in the parent card when the conversation has no thread yet, else as one
        message in the thread. Those that do not fit wait for the next post."""
        if not conversation.slack_thread_ts:
            card = (CARD_BLOCKS, CARD_CHARS)
            carrying, _ = await self._carrying(texts, riders, conversation, reserve=card)
            _, _, carried = await self._threads.open(conversation, carrying)
            if carried is not None:
                await self._after(carried, [m for m, _ in texts])
                return
            # A parent was there already (posted alone by an earlier run): into its thread.
        carrying, text = await self._carrying(texts, riders, conversation)
        head = texts[0][0]
        posted = await self._threads.post(
            conversation,
            text,
            key=f"text:{head.id}",
            blocks=carrying.blocks,
            detail=carrying.carried.detail(),
            as_person=self._poster(head, conversation, contact),
            land=False,
        )
        carried = Carried.read(posted.detail)
        if carried is None:  # an earlier run posted this text alone
            with_draft = posted.detail == WITH_DRAFT
            async with self._posts.landing(posted.key):
                await self._store.set_message_slack_ts(
                    head.id, posted.channel, posted.ts, with_draft=with_draft
                )
            await self._settle([head], head if with_draft else None)
            return
        async with self._posts.landing(posted.key):
            await carried.land(self._store, posted.channel, posted.ts, key=posted.key)
        await self._after(carried, [m for m, _ in texts])

    async def _carrying(
        self,
        texts: list[tuple[Message, str]],
        riders: list[Rider],
        conversation: Conversation,
        *,
        reserve: tuple[int, int] = (0, 0),
    ) -> tuple[Carrying, str]:
        """The texts that fit one message beside `reserve` (a card) and a draft, with
        the draft of the latest one that gets one; and the message's notification text."""
        fitting = burst(
            texts, reserve_blocks=reserve[0] + DRAFT_BLOCKS, reserve_chars=reserve[1] + DRAFT_CHARS
        )
        wanting = [m for m in fitting.messages if self._drafts.wants_draft(m)]
        blocks = list(fitting.blocks)
        draft_of = None
        if wanting:
            drafted = await self._drafts.draft_for_post(wanting[-1], conversation)
            if (extra := draft_blocks(drafted)) and len(blocks) + len(extra) + reserve[
                0
            ] <= MAX_BLOCKS:
                blocks += extra
                draft_of = drafted.id
        ids = tuple(m.id for m in fitting.messages)
        keys = {r.message.id: r.key for r in riders}
        carried = Carried(ids, tuple(keys[i] for i in ids if i in keys), draft_of)
        return Carrying(carried, blocks), fitting.text

    async def _after(self, carried: Carried, known: list[Message]) -> None:
        """What follows a burst's post, for the texts its landed attempt carried (after
        a crash, maybe others than this run read)."""
        by_id = {m.id: m for m in known}
        shown = [by_id.get(i) or await self._store.get_message(i) for i in carried.message_ids]
        texts = [m for m in shown if m is not None]
        drafted = next((m for m in texts if m.id == carried.draft_of), None)
        if texts:
            await self._settle(texts, drafted)

    async def _post_text(
        self, message: Message, conversation: Conversation, contact: Contact | None
    ) -> bool:
        """Post the text, with its draft when that is ready in time: whether it was
        (the landed post says, should an earlier attempt have posted it)."""
        as_person = self._poster(message, conversation, contact)
        message = await self._drafts.draft_for_post(message, conversation)
        text = await shown_text(self._store, message)
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

    @staticmethod
    def _poster(
        message: Message, conversation: Conversation, contact: Contact | None
    ) -> tuple[str, str] | None:
        """A customer's text shows under their name (or number), not the app's; a
        keyword's system note stays the bridge's. (`contact` is read by every post job:
        a contact renamed a moment ago shows under the new name.)"""
        if message.keyword is not None and message.keyword.replaces_post:
            return None
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
