"""The persistence port. Every layer reaches state only through this interface.

Each method is one atomic effect. Engines keep it that way without multi-document
transactions (MongoDB may be a standalone server), so a crash between two calls
never leaves half an effect behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bridge.campaigns.models import (
    Answer,
    Campaign,
    CampaignState,
    Progress,
    Recipient,
    Tally,
)
from bridge.events import ConversationRouted, Publishing, SlaBreached
from bridge.models import (
    Away,
    Channel,
    ConsentEvent,
    ConsentState,
    Contact,
    Conversation,
    ConversationPatch,
    DeliveryStatus,
    DigestItem,
    DraftOutcome,
    DraftState,
    EntryOutcomes,
    InboundRecord,
    InboundSms,
    InboxFilter,
    Intent,
    Job,
    KeywordMark,
    Lesson,
    LessonState,
    Message,
    MessageDraft,
    MessagePurpose,
    NewJob,
    NotifyPreferences,
    OutboundRecord,
    OutboundReply,
    PaceTurn,
    PostAttempt,
    PushSubscription,
    Rider,
    SendAttempt,
    SlackPost,
    TextToPost,
    Urgency,
)


class StoreUnavailable(Exception):
    """The store cannot be opened, or its storage refuses writes now (a full disk, a
    read-only or damaged file, an unreachable server). The message is one line that
    names the setting to look at; `reason` says what is wrong in a few words."""

    def __init__(self, message: str, *, reason: str = "unavailable") -> None:
        super().__init__(message)
        self.reason = reason

    @property
    def answer(self) -> str:
        """The body of a 503 for a request this refused: short, and no setting names."""
        return f"store unavailable: {self.reason}"


class StoreConflict(Exception):
    """A write contradicts what the store holds (a key that is another record's):
    repeating it cannot succeed."""


class StoreHealth(Protocol):
    """Opening, closing and whether the store takes writes."""

    async def open(self) -> None:
        """Connect, migrate the schema or create indexes; `StoreUnavailable` if not."""

    async def close(self) -> None: ...

    async def ping(self) -> bool:
        """True while the store answers and takes writes (readiness)."""

    @property
    def refusing(self) -> StoreUnavailable | None:
        """Why the storage refuses writes: set by the first call that failed that way
        (every call raises `StoreUnavailable` for such a failure), cleared by a small
        write the store then tries every few seconds, once it succeeds. None while
        writes work."""


class PublishingStore(Protocol):
    """Which events the store's own writes publish (a conversation opened, a text
    received, a draft ready), with the write: those some notifier wants. Set at start
    (`Notifiers.publishing`); nothing is published until then."""

    publishing: Publishing


class ConversationStore(Protocol):
    """Conversations: one subscriber and one business number, one Slack thread."""

    async def get_conversation(self, conversation_id: int) -> Conversation | None: ...

    async def find_conversation(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> Conversation | None: ...

    async def find_conversation_by_thread(
        self, channel: str, thread_ts: str
    ) -> Conversation | None: ...

    async def open_conversation(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> Conversation:
        """Find or open the conversation of (channel, business number, subscriber), with
        no message (a conversation the business starts)."""

    async def update_conversation(
        self, conversation_id: int, patch: ConversationPatch, *, jobs: Sequence[NewJob] = ()
    ) -> Conversation | None:
        """Apply the fields the patch sets, and enqueue `jobs` (due now, as `enqueue`
        does) in the same write; the conversation as it is after, or None (then nothing
        is stored)."""

    async def list_conversations(
        self, inbox: InboxFilter, *, user: str | None = None, limit: int = 50
    ) -> list[Conversation]:
        """Most recent activity first. MINE means assigned to `user`; OPEN includes
        flagged ones; FLAGGED only open flagged ones."""

    async def set_thread(
        self, conversation_id: int, channel: str, thread_ts: str, *, replacing: str | None
    ) -> bool:
        """Point the conversation at a Slack thread, only if its current thread ts is
        `replacing` (compare-and-set). Returns whether it changed."""

    async def clear_thread(self, conversation_id: int, thread_ts: str) -> bool:
        """Forget a thread Slack reports gone, if it is still the current one (its
        `thread_epoch` moves on, naming the post of the next parent)."""

    async def mark_header_shown(self, conversation_id: int, activity_at: datetime) -> None: ...


class MessageStore(Protocol):
    """Texts received and where Slack shows them."""

    async def record_inbound(
        self, sms: InboundSms, *, keyword: KeywordMark | None = None
    ) -> InboundRecord:
        """Store a text idempotently by its MessageSid, opening the conversation of
        (channel, business number, subscriber) if needed, and enqueue its post to Slack in
        the same write. `keyword` marks a compliance keyword (the post becomes a
        system note). A known MessageSid changes nothing and returns created=False."""

    async def get_message(self, message_id: str) -> Message | None: ...

    async def get_message_by_slack_ts(self, channel: str, ts: str) -> Message | None: ...

    async def get_message_by_sid(self, sid: str) -> Message | None: ...

    async def recent_messages(
        self, conversation_id: int, *, limit: int, until: datetime | None = None
    ) -> list[Message]:
        """The conversation's latest `limit` messages (created at `until` or before),
        oldest first: an AI prompt's context, only this conversation's texts."""

    async def set_message_slack_ts(
        self,
        message_id: str,
        channel: str,
        ts: str,
        *,
        with_draft: bool = False,
        landing: str | None = None,
    ) -> None:
        """Where the message was posted; `with_draft`: its draft was posted with it (the
        draft's `slack_ts` becomes this ts too); `landing`: the post's key, landed as
        `land_post` would, in the same write."""

    async def mark_media_posted(self, message_id: str) -> None: ...

    async def set_shown_ts(self, message_id: str, ts: str) -> None:
        """The Slack message in its thread that shows this reply (for its marks)."""


class DraftStore(Protocol):
    """The assistant's drafts on inbound texts."""

    async def save_draft(
        self, message_id: str, draft: MessageDraft, *, intent: Intent, urgency: Urgency
    ) -> Message | None:
        """Attach the assistant's draft, intent and urgency to an inbound text, unless it
        has a draft already (the first one wins: a retried job drafts nothing twice).
        Returns the message as stored after, or None when it is unknown."""

    async def settle_draft(
        self,
        message_id: str,
        state: DraftState,
        *,
        by: str | None,
        at: datetime | None,
        expect: DraftState = DraftState.PROPOSED,
        sent_text: str | None = None,
        note: str | None = None,
    ) -> Message | None:
        """Move a draft from `expect` (normally the open PROPOSED) to `state`, once,
        recording who, when, what was sent (and a note, when given): the message
        after, or None when the draft is not in `expect` (someone else was first)."""

    async def set_draft_slack_ts(self, message_id: str, ts: str) -> None:
        """Remember the Slack message a late draft was posted as."""


class ReplyStore(Protocol):
    """Texts the business sends, from queued to delivered."""

    async def record_outbound(
        self,
        reply: OutboundReply,
        *,
        send_at: datetime | None,
        purpose: MessagePurpose = MessagePurpose.REPLY,
    ) -> OutboundRecord:
        """Store an agent's reply as a QUEUED message with its SEND_SMS job due at
        `send_at`, in one write, idempotently by its Slack (channel, ts); it counts as
        conversation activity. `send_at=None` stores it HELD, with no job, until
        `release_held`. A known (channel, ts) changes nothing: created=False."""

    async def release_held(
        self, message_id: str, body: str, purpose: MessagePurpose, *, send_at: datetime
    ) -> Message | None:
        """HELD → QUEUED with this body and purpose and its SEND_SMS job, in one write;
        None when the message is not HELD (released or cancelled already)."""

    async def record_system_text(
        self,
        conversation_id: int,
        body: str,
        purpose: MessagePurpose,
        *,
        key: str,
        author: str | None = None,
        shown_ts: str | None = None,
    ) -> Message | None:
        """Queue a text the bridge itself sends (a confirmation, a HELP answer, a canned
        or drafted reply an agent chose: `author`) with its SEND_SMS job, due now, in one
        write; `shown_ts`: the card in its thread that shows it. `key` makes it
        idempotent: a known key changes nothing and returns None."""

    async def edit_unsent(self, message_id: str, body: str) -> bool:
        """Replace the body while the message is still QUEUED; False once it is not."""

    async def cancel_unsent(self, message_id: str) -> bool:
        """QUEUED or HELD → CANCELLED; False once it is neither."""

    async def begin_send(self, message_id: str) -> SendAttempt | None:
        """Record a send attempt before calling the provider: QUEUED → SENDING
        (resumed=False). A message already SENDING is returned with resumed=True (an
        attempt whose outcome is unknown); any other state returns None. `began_at`
        is when the first attempt began, the same for every resumed one."""

    async def finish_send(
        self,
        message_id: str,
        status: DeliveryStatus,
        *,
        sid: str | None = None,
        error_code: int | None = None,
    ) -> Message:
        """The outcome of an attempt (SENT with the provider's sid, FAILED, BLOCKED).
        `StoreConflict`, and nothing changes, when the sid is another message's."""

    async def update_delivery(
        self, sid: str, status: DeliveryStatus, error_code: int | None
    ) -> Message | None:
        """Apply a status callback if it moves a reply the bridge sent forward (by
        `DeliveryStatus.rank`); return the updated message, or None when the sid is
        unknown, an inbound text's, or the status is not newer."""


class ConsentStore(Protocol):
    """The consent ledger."""

    async def record_consent(self, events: Sequence[ConsentEvent]) -> int:
        """Append to the ledger; an event whose (ref, kind) is known is skipped.
        Returns how many were new."""

    async def consent_state(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> ConsentState:
        """The latest event of each kind for this subscriber address decides (ties: the
        later append)."""

    async def consent_log(self) -> list[ConsentEvent]:
        """The whole ledger, oldest first (for audits)."""


class ContactStore(Protocol):
    """Subscribers' names and details."""

    async def get_contact(self, phone: str) -> Contact | None: ...

    async def put_contact(self, contact: Contact) -> None: ...


class CannedStore(Protocol):
    """Canned responses by name."""

    async def put_canned(self, name: str, text: str) -> None: ...

    async def delete_canned(self, name: str) -> bool: ...

    async def list_canned(self) -> dict[str, str]:
        """Name → text, by name."""


class HomeFilterStore(Protocol):
    """Who looks at their App Home inbox, with which filter."""

    async def set_home_filter(self, user: str, inbox: InboxFilter) -> None:
        """Remember that `user` looks at their App Home inbox, and with which filter."""

    async def home_viewers(self) -> dict[str, InboxFilter]: ...


class AwayStore(Protocol):
    """The `away` switch, one for the workspace, seen by every process."""

    async def set_away(self, away: Away | None) -> None:
        """Closed by hand from now on (None: not any more)."""

    async def away(self) -> Away | None: ...


class NotificationStore(Protocol):
    """What the notification rules decided (alerts to send, items for digests) and what
    was sent: each once, whatever crashes or retries."""

    async def dispatch(
        self, key: str, jobs: Sequence[tuple[NewJob, datetime]], items: Sequence[DigestItem]
    ) -> bool:
        """In one write: the alert and digest jobs (each with its due time) and the
        digest items of one run of the rules. A known `key` changes nothing (False): a
        second run of the same event adds no alert and no item."""

    async def digest_items(self, via: str, to: str, *, due_by: datetime) -> list[DigestItem]:
        """The unsent items of one channel and person due by `due_by`, oldest first."""

    async def finish_digest(self, key: str, item_ids: Sequence[str]) -> None:
        """A digest went out: its items are sent and `key` is delivered, in one write."""

    async def delivered(self, key: str) -> bool:
        """Whether the alert or digest `key` went out."""

    async def mark_delivered(self, key: str) -> None: ...


class PreferenceStore(Protocol):
    """Each person's say over their notifications (App Home)."""

    async def notify_preferences(self, user: str) -> NotifyPreferences:
        """Theirs, or the defaults (everything, no quiet hours)."""

    async def set_notify_preferences(self, user: str, preferences: NotifyPreferences) -> None: ...


class RoutingStore(Protocol):
    """Teams' threads and their assignment bookkeeping."""

    async def route_thread(
        self,
        conversation_id: int,
        channel: str,
        thread_ts: str,
        *,
        replacing: str | None,
        routed: ConversationRouted,
    ) -> bool:
        """`set_thread`, and the conversation's team becomes `routed.team`, with the
        decision's note in the new thread (`effects.after_routed`), in one write; only
        if the current thread ts is `replacing`. Returns whether it changed."""

    async def open_assigned(self, assignees: Sequence[str]) -> dict[str, int]:
        """How many open conversations each of `assignees` has (0 for none)."""


class PushSubscriptionStore(Protocol):
    """The browsers subscribed to each person's Web Push notifications."""

    async def save_push_subscription(self, subscription: PushSubscription) -> None:
        """Keep it; an endpoint kept already is replaced (a browser subscribed again,
        perhaps for another person)."""

    async def push_subscriptions(self, user: str) -> list[PushSubscription]:
        """The person's subscriptions, oldest first."""

    async def drop_push_subscription(self, endpoint: str) -> None:
        """Forget an endpoint the push service says is gone (none kept: nothing)."""


class SlaStore(Protocol):
    """The first-response timer (`notifications.sla`): which text waits for the team's
    answer, and each wait's breach, recorded once."""

    # Set at start: a subscriber's text then arms its check in the same write
    # (`effects.first_response_timer`). None: no timer.
    first_response_minutes: int | None

    async def waiting_since(self, conversation_id: int) -> Message | None:
        """The subscriber's first text (keywords aside) since the team last answered (an
        agent's or the assistant's reply, unless held, cancelled or blocked); None when
        no text waits."""

    async def record_breach(self, breach: SlaBreached) -> bool:
        """Record that the wait that began with `breach.message_id` ran out, with its
        jobs (`effects.after_breach`), in one write; False, and nothing more, when that
        wait's breach is recorded already."""


class CampaignStore(Protocol):
    """Campaigns, their recipients and the texts sent to them."""

    async def get_campaign(self, campaign_id: str) -> Campaign | None: ...

    async def list_campaigns(self, *, limit: int = 20) -> list[Campaign]:
        """Newest first."""

    async def set_campaign_state(
        self, campaign_id: str, state: CampaignState, *, expect: Sequence[CampaignState]
    ) -> Campaign | None:
        """Move the campaign to `state` only from one of `expect` (compare-and-set): the
        campaign after, or None when it was in none of them."""

    async def set_campaign_slack(
        self,
        campaign_id: str,
        *,
        channel: str,
        progress_ts: str | None = None,
        results_ts: str | None = None,
    ) -> None:
        """Where its progress and results messages are (a None ts leaves that one)."""

    async def campaign_progress(self, campaign_id: str) -> Progress: ...

    async def campaign_recipients(self, campaign_id: str) -> list[Recipient]:
        """Every recipient, in the order they were chosen."""

    async def latest_campaign_text(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> tuple[Campaign, Message] | None:
        """The last campaign text the provider accepted for this address, with its
        campaign: what a text from them may be answering. None, without a lookup, while
        no campaign may be answered or quoted (none to send, none taking answers, none
        within `QUOTE_WINDOW`): asked once a second, and at once after this store
        creates or starts one."""

    async def close_campaign(self, campaign_id: str) -> Campaign | None:
        """Its answers' window is over: `closed`, once (None when it was already)."""

    async def create_campaign(
        self,
        campaign: Campaign,
        subscribers: Sequence[str],
        *,
        jobs: Sequence[tuple[NewJob, datetime]] = (),
    ) -> bool:
        """Store the campaign and its recipients (PENDING, in this order) and enqueue
        `jobs` (each with its due time). A known campaign id adds no recipient (its jobs
        are enqueued again, which coalesces): False."""

    async def start_campaign(
        self,
        campaign_id: str,
        *,
        at: datetime,
        closes_at: datetime | None,
        jobs: Sequence[tuple[NewJob, datetime]] = (),
    ) -> Campaign | None:
        """SCHEDULED → SENDING, started `at`, its answers taken until `closes_at`, with
        `jobs` in the same write; None when it was not SCHEDULED."""

    async def finish_campaign(self, campaign_id: str, *, at: datetime) -> Campaign | None:
        """SENDING → DONE (`finished_at`), only when no recipient is PENDING; else None."""

    async def pending_recipients(self, campaign_id: str, *, limit: int) -> list[Recipient]:
        """The next PENDING recipients, in the order they were chosen."""

    async def queue_campaign_text(
        self, message: Message, subscriber: str, *, send_at: datetime
    ) -> bool:
        """In one write: the recipient becomes QUEUED with `message` (an outbound text
        with its `campaign_id`, on its conversation, which is not touched: no inbox
        activity) and its SEND_SMS job due `send_at`. The message id makes it
        idempotent: False when the recipient was not PENDING (queued before)."""

    async def queue_campaign_texts(self, texts: Sequence[tuple[Message, str, datetime]]) -> int:
        """`queue_campaign_text` for each (message, subscriber, send_at) of a pump's
        run, together (SQLite: one transaction); how many were queued now."""

    async def skip_recipient(self, campaign_id: str, subscriber: str, reason: str) -> bool:
        """PENDING → SKIPPED for `reason`; False when it was not PENDING."""

    async def cancel_campaign_texts(self, campaign_id: str) -> int:
        """Every QUEUED text of the campaign → CANCELLED; how many."""

    async def open_campaign_conversation(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> Conversation:
        """`open_conversation` for a campaign's text: one opened here is no inbox
        activity (its last activity is the epoch until the subscriber texts), so a
        campaign to thousands does not push the inbox's conversations down."""

    async def open_campaign_conversations(
        self, business_number: str, subscribers: Sequence[str], channel: Channel = Channel.SMS
    ) -> dict[str, Conversation]:
        """`open_campaign_conversation` for each of a pump's run, together (SQLite: one
        transaction): subscriber → conversation, in the order given."""

    async def campaign_contacts(self) -> list[Contact]:
        """Every contact, by phone: what audiences and segments choose from."""

    async def last_texts(
        self, business_number: str, channel: Channel
    ) -> dict[str, datetime | None]:
        """The subscribers who have a conversation with this number → when they last
        texted it (None: never, a conversation the business began)."""


class AnswerStore(Protocol):
    """Answers to campaigns' polls, rating requests and opt-in requests."""

    async def record_answer(
        self, answer: Answer, *, keep: str = "last", jobs: Sequence[NewJob] = ()
    ) -> bool:
        """Keep a subscriber's answer: `keep="last"` replaces their earlier one,
        `"first"` keeps the earlier. A known `sid` changes nothing. `jobs` are enqueued
        (due now) with it, also for a known sid (a retry after a crash). Returns
        whether the counted answer changed."""

    async def tally(self, campaign_id: str) -> Tally: ...

    async def campaign_answers(self, campaign_id: str) -> list[Answer]:
        """The counted answer of each subscriber, oldest first."""


class FeedbackStore(Protocol):
    """Ratings given to campaigns' rating requests: the report across campaigns, and
    the review requests' period."""

    async def ratings_since(self, since: datetime) -> list[Answer]:
        """The counted rating of each subscriber to each rating request (a campaign
        with `feedback`), given at or after `since`, oldest first."""

    async def counted_answer(self, campaign_id: str, subscriber: str) -> Answer | None:
        """The subscriber's counted answer to the campaign, if any."""

    async def claim_review(
        self, business_number: str, subscriber: str, *, key: str, at: datetime, every: timedelta
    ) -> bool:
        """Whether the subscriber may be asked for a review now (`at`): none was claimed
        for them within `every` before, or the last claim has this `key` (a retry).
        Claims it, in one write."""


class PostStore(Protocol):
    """Posts into Slack, recorded before they are made (exactly once)."""

    async def begin_post(
        self, key: str, channel: str, thread_ts: str | None, *, at: datetime, detail: str = ""
    ) -> PostAttempt:
        """Record a post before calling Slack (resumed=False). A known key is returned as
        it stands (resumed=True): landed with its `ts`, or an attempt of unknown outcome."""

    async def land_post(self, key: str, ts: str) -> bool:
        """The post `key` landed as `ts` (Slack's answer, its echo, or a history read).
        The first ts stays; an unknown key changes nothing."""

    async def drop_post(self, key: str, *, started_at: datetime | None = None) -> None:
        """The attempt certainly did not post: forget it, unless it landed meanwhile
        (or, with `started_at`, unless another attempt has begun since)."""

    async def unsettled_posts(self, channel: str) -> list[SlackPost]:
        """Attempts in `channel` whose outcome is unknown, oldest first."""

    async def landed_post(self, channel: str, ts: str) -> SlackPost | None:
        """The post that landed as `ts` in `channel`, if the record has it."""


class JobStore(Protocol):
    """The outbox: jobs leased once, in order per lane."""

    async def enqueue(self, job: NewJob, *, run_at: datetime) -> None:
        """Add a job. A key that is pending already stays as it is (coalescing). A key
        that is running is left to its worker and marked to run once more: that run's
        `complete_job` returns False and makes it pending again, due at once, at the
        tail of its lane. A dead key is pending again, attempts reset."""

    async def claim_jobs(
        self, owner: str, *, now: datetime, limit: int, lease_seconds: float
    ) -> list[Job]:
        """Lease up to `limit` due jobs, each the oldest unfinished job of its lane.
        Jobs whose lease expired (their worker died) are due again."""

    async def extend_lease(self, job: Job, *, until: datetime) -> bool:
        """Keep a long-running job's lease (a heartbeat); False if it was lost."""

    async def complete_job(self, job: Job) -> bool:
        """Mark done (the job is deleted), unless it was re-leased meanwhile or
        enqueued again while it ran (then it is pending again); False in both cases."""

    async def retry_job(
        self, job: Job, *, run_at: datetime, error: str, counted: bool = True
    ) -> bool:
        """Pending again from `run_at`, keeping its place in its lane. `counted=False`
        (throttling, not failure) does not use up one of the job's attempts."""

    async def kill_job(self, job: Job, *, error: str) -> bool:
        """Give up on a job: it is dead and its lane moves on."""

    async def queue_depth(self) -> dict[str, int]:
        """Unfinished jobs by kind, and dead ones under the key "dead"."""


class BurstStore(Protocol):
    """Texts of one conversation that waited together for their channel's pace: posted
    as one Slack message, each keeping its own record of where Slack shows it."""

    async def waiting_behind(self, job: Job, *, now: datetime, limit: int) -> list[Rider]:
        """The POST_INBOUND jobs right behind `job` in its lane, due by `now`, oldest
        first and at most `limit`, with their texts; the first job of another kind, or
        not yet due, ends them (the lane's order holds). Only read: they stay in the
        lane until `land_burst` finishes them."""

    async def land_burst(
        self,
        message_ids: Sequence[str],
        channel: str,
        ts: str,
        *,
        draft_of: str | None,
        landing: str,
        riders: Sequence[str],
    ) -> None:
        """Where a burst's message landed, in one write: each text's Slack location, the
        draft of `draft_of` as posted with it, the post `landing` landed, and the jobs
        `riders` (keys, pending behind the running one) finished."""

    async def messages_at(self, channel: str, ts: str) -> list[Message]:
        """The texts one Slack message carries, oldest first."""

    async def text_to_post(self, message_id: str, conversation_id: int) -> TextToPost:
        """The text `message_id`, the conversation `conversation_id` and its subscriber's
        contact: what a post job reads before it posts, read together (on SQLite, one
        trip to the database thread)."""


class UsageStore(Protocol):
    """Named counters shared by every process (the AI's daily tokens)."""

    async def add_usage(self, key: str, amount: int) -> int:
        """Add to a named counter (e.g. the day's AI tokens), atomically for every
        process sharing the store; returns its new total (amount 0 only reads it)."""


class PaceStore(Protocol):
    """Pacing shared by every process on the store: one budget per key (a Slack method
    in a channel, an SMS sender), kept as its next theoretical arrival time (GCRA)."""

    async def reserve_pace(
        self, key: str, *, interval: float, tolerance: float, within: float
    ) -> PaceTurn:
        """The caller's turn for `key`: `interval` seconds after the turn before it (of
        any process), up to `tolerance` seconds early (a burst). A turn further off than
        `within` seconds is not taken but booked, after every turn booked before, for
        the caller to come back at."""

    async def hold_pace(self, key: str, *, seconds: float, tolerance: float) -> None:
        """No turn for `key` for `seconds` (a platform's Retry-After), in any process;
        the burst is spent, so turns resume at the interval. A shorter hold never
        shortens a longer one."""

    async def pace_held(self, key: str) -> float:
        """Seconds until `key`'s hold ends (0: not held)."""


class LessonStore(Protocol):
    """What agents propose to teach the assistant, and what admins decided."""

    async def propose_lesson(self, lesson: Lesson) -> Lesson | None:
        """Store a proposal; None when the text already has one (the first stays)."""

    async def get_lesson(self, lesson_id: str) -> Lesson | None: ...

    async def pending_lessons(self, *, limit: int) -> list[Lesson]:
        """Proposals waiting for an admin, oldest first."""

    async def decide_lesson(
        self, lesson_id: str, state: LessonState, *, by: str, at: datetime
    ) -> Lesson | None:
        """Approve or reject a pending proposal; None when it is not pending (any more)."""


class DraftTallyStore(Protocol):
    """How agents treated the drafts each knowledge-base entry answered."""

    async def count_draft_outcome(self, entry_ids: Sequence[str], outcome: DraftOutcome) -> None:
        """One more draft of these entries sent, edited or discarded (atomic per entry)."""

    async def draft_outcomes(self, *, limit: int) -> list[EntryOutcomes]:
        """The entries agents corrected most (edited + discarded), most first; entries
        never corrected are left out."""


class Store(
    StoreHealth,
    PublishingStore,
    ConversationStore,
    MessageStore,
    DraftStore,
    ReplyStore,
    ConsentStore,
    ContactStore,
    CannedStore,
    HomeFilterStore,
    AwayStore,
    PushSubscriptionStore,
    PostStore,
    JobStore,
    UsageStore,
    PaceStore,
    BurstStore,
    NotificationStore,
    PreferenceStore,
    RoutingStore,
    SlaStore,
    CampaignStore,
    AnswerStore,
    FeedbackStore,
    LessonStore,
    DraftTallyStore,
    Protocol,
):
    """The whole port, as the engines implement it; consumers take the roles they use."""
