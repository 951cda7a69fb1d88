"""Every kind of outbox job and the one factory that makes it. A job's key makes it
idempotent; its lane orders it (jobs of one lane run one at a time, in enqueue order);
a job about an event carries the event, serialised, as its payload (`note`)."""

from __future__ import annotations

import uuid

from bridge.events import (
    DeliveryFailed,
    Event,
    JobDied,
    ReplyEvent,
    ReplyTooLate,
    TeachOffered,
    dump_event,
    load_event,
)
from bridge.models import (
    Delivery,
    DigestPeriod,
    Job,
    JobKind,
    Message,
    MessagePurpose,
    Model,
    NewJob,
    ReportRequest,
)

# Kinds only an earlier release enqueued: their handlers still run what a database
# kept of them, but nothing makes new ones (events go to `notify/` now).
LEGACY_KINDS = frozenset({JobKind.REPORT_DEAD, JobKind.DIRECT_MESSAGE})


def conversation_lane(conversation_id: int) -> str:
    """The lane that keeps one conversation's Slack effects in order."""
    return f"conversation:{conversation_id}"


def sms_lane(conversation_id: int) -> str:
    """The lane that keeps one conversation's replies in order. Apart from the Slack
    lane, so a reply waiting out its undo window never holds up incoming texts."""
    return f"sms:{conversation_id}"


def ai_lane(conversation_id: int) -> str:
    """The lane of late drafts: a slow engine never holds up the conversation's posts."""
    return f"ai:{conversation_id}"


def post_job(message: Message) -> NewJob:
    """Post a subscriber's text into its thread: created with the message itself."""
    return NewJob(
        key=f"post:{message.id}",
        kind=JobKind.POST_INBOUND,
        lane=conversation_lane(message.conversation_id),
        conversation_id=message.conversation_id,
        message_id=message.id,
    )


def send_job(message: Message) -> NewJob:
    """Send an agent's reply as SMS: created with the message itself."""
    lane = sms_lane(message.conversation_id)
    if message.purpose is MessagePurpose.MARKETING:
        lane += ":marketing"  # may wait for daytime; other replies must not wait with it
    return NewJob(
        key=f"send:{message.id}",
        kind=JobKind.SEND_SMS,
        lane=lane,
        conversation_id=message.conversation_id,
        message_id=message.id,
    )


def header_job(conversation_id: int) -> NewJob:
    """Re-render the parent card. One key per conversation: a burst of changes is
    one pending job, which renders the latest state when it runs. Its own lane: the
    card waits for chat.update's pace (about one a second for the whole workspace, so
    a burst of new routed conversations queues their cards) without holding up the
    conversation's texts; it never posts a parent, so it needs not their lane."""
    key = f"header:{conversation_id}"
    return NewJob(
        key=key,
        kind=JobKind.SYNC_HEADER,
        lane=key,
        conversation_id=conversation_id,
    )


def draft_job(message: Message, *, check: bool = False) -> NewJob:
    """Post the draft of a text whose draft was not ready when the text was posted: when
    it is ready, or (`check`) after the time it may take, should its process have died."""
    key = f"draft-check:{message.id}" if check else f"draft:{message.id}"
    return NewJob(
        key=key,
        kind=JobKind.POST_DRAFT,
        # The check waits long in a lane of its own: it must not hold up the drafts.
        lane=key if check else ai_lane(message.conversation_id),
        conversation_id=message.conversation_id,
        message_id=message.id,
    )


def draft_card_job(message: Message) -> NewJob:
    """Re-render a draft's card after it was sent, discarded or replaced. Its own lane:
    a burst's cards (chat.update is paced at about one a second) never hold up posts."""
    return NewJob(
        key=f"draft-card:{message.id}",
        kind=JobKind.SYNC_DRAFT,
        lane=f"cards:{message.conversation_id}",
        conversation_id=message.conversation_id,
        message_id=message.id,
    )


def home_job(user: str | None = None) -> NewJob:
    """Republish one person's App Home (just opened, filter changed), or everyone's
    after a change: one pending job however many changes come meanwhile."""
    key = f"home:{user}" if user else "home"
    return NewJob(key=key, kind=JobKind.REFRESH_HOME, lane=key, user=user)


def thread_note_job(event: Event, *, key: str | None = None, showing: str | None = None) -> NewJob:
    """A system note in the conversation's thread, the event told in words; `key` makes
    it idempotent. `showing`: the reply (message id) the note shows, whose delivery
    marks then go on it."""
    conversation_id = _conversation_of(event)
    return NewJob(
        key=f"note:{key or uuid.uuid4().hex}",
        kind=JobKind.THREAD_NOTE,
        lane=conversation_lane(conversation_id),
        conversation_id=conversation_id,
        message_id=showing,
        note=dump_event(event),
    )


def channel_note_job(event: Event) -> NewJob:
    """A thread note also broadcast to the channel, for what the whole team must see."""
    conversation_id = _conversation_of(event)
    return NewJob(
        key=f"note:{uuid.uuid4().hex}",
        kind=JobKind.CHANNEL_NOTE,
        lane=conversation_lane(conversation_id),
        conversation_id=conversation_id,
        note=dump_event(event),
    )


def tell_agent_job(event: ReplyEvent | ReplyTooLate | TeachOffered) -> NewJob:
    """An ephemeral note to the author of a reply; about a held reply, it carries the
    choice to edit it into a support-only reply or cancel it; after an answer to a
    handed-off text, the offer to teach the assistant."""
    key = f"tell:{uuid.uuid4().hex}"
    return NewJob(
        key=key,
        kind=JobKind.TELL_AGENT,
        lane=key,  # independent: an ephemeral note waits for nothing
        conversation_id=event.conversation_id,
        user=event.author,
        note=dump_event(event),
        message_id=getattr(event, "message_id", None),
    )


def mark_delivery_job(message: Message, failed: DeliveryFailed | None = None) -> NewJob:
    """Show a reply's final state on its Slack message, and why it failed if it did."""
    return NewJob(
        key=f"mark:{message.id}",
        kind=JobKind.MARK_DELIVERY,
        lane=conversation_lane(message.conversation_id),
        conversation_id=message.conversation_id,
        message_id=message.id,
        note=dump_event(failed) if failed is not None else None,
    )


def appointment_job(message: Message) -> NewJob:
    """Hand a text's appointment wish to the business's webhook."""
    return NewJob(
        key=f"appointment:{message.id}",
        kind=JobKind.APPOINTMENT_WEBHOOK,
        lane=f"appointment:{message.id}",  # a receiver that is down holds up nothing
        conversation_id=message.conversation_id,
        message_id=message.id,
    )


def publish_job(event: Event, *, key: str) -> NewJob:
    """Hand an event to the notifiers that want it (`notify/`); `key` makes it once."""
    return NewJob(
        key=f"publish:{key}",
        kind=JobKind.PUBLISH,
        lane=f"publish:{key}",  # fanning out waits for nothing
        conversation_id=getattr(event, "conversation_id", None),
        message_id=getattr(event, "message_id", None),
        note=dump_event(event),
    )


def first_response_job(message: Message) -> NewJob:
    """Check, once the first-response time may have run out, whether the text's wait
    had an answer (`notifications.sla`). One key per conversation: a second text while
    the check is pending adds no second timer."""
    key = f"sla:{message.conversation_id}"
    return NewJob(
        key=key,
        kind=JobKind.CHECK_SLA,
        lane=key,  # waits long: holds up nothing else
        conversation_id=message.conversation_id,
        message_id=message.id,
    )


class Notice(Model):
    """What a NOTIFY job carries: one notifier's delivery of one event."""

    notifier: str
    event: Event


def notify_job(notifier: str, event: Event, *, key: str) -> NewJob:
    """One notifier's delivery of one event. A lane per notifier and conversation: a
    notifier that fails retries alone and never holds up a conversation's thread."""
    conversation_id = getattr(event, "conversation_id", None)
    lane = f"notify:{notifier}" + (f":{conversation_id}" if conversation_id else "")
    return NewJob(
        key=f"notify:{notifier}:{key}",
        kind=JobKind.NOTIFY,
        lane=lane,
        conversation_id=conversation_id,
        note=Notice(notifier=notifier, event=event).model_dump_json(),
    )


def alert_job(delivery: Delivery, *, key: str) -> NewJob:
    """One alert by one channel (a DM, an email, a post in the thread). A lane per
    channel and person: a mail server that fails holds up only that person's mail,
    never a thread's posts nor anyone else's alerts."""
    return NewJob(
        key=f"alert:{key}",
        kind=JobKind.ALERT,
        lane=f"alert:{delivery.via}:{','.join(delivery.to)}",
        conversation_id=delivery.alert.conversation.id if delivery.alert.conversation else None,
        message_id=delivery.alert.message_id,
        note=delivery.model_dump_json(),
    )


def digest_job(period: DigestPeriod) -> NewJob:
    """One digest, due at the end of its period: one key per (channel, person, period),
    so a burst of alerts is one pending job and one message."""
    key = f"digest:{period.via}:{period.to}:{period.due.isoformat()}"
    return NewJob(
        key=key,
        kind=JobKind.DIGEST,
        lane=key,  # independent: waits for nothing, holds up nothing
        user=period.to or None,
        note=period.model_dump_json(),
    )


def job_died(job: Job, error: str) -> JobDied:
    return JobDied(
        job=job.key, error=error, conversation_id=job.conversation_id, message_id=job.message_id
    )


def reports_dead_job(job: Job) -> bool:
    """A job that tells people of a dead job: it retries for as long as it takes (a
    person must hear of it), and is never itself reported."""
    if job.kind is JobKind.REPORT_DEAD:
        return True
    if job.kind is JobKind.PUBLISH:
        return isinstance(load_event(job.note), JobDied)
    if job.kind is JobKind.NOTIFY and job.note:
        return isinstance(Notice.model_validate_json(job.note).event, JobDied)
    return False


def _conversation_of(event: Event) -> int:
    conversation_id = getattr(event, "conversation_id", None)
    if not isinstance(conversation_id, int):
        raise ValueError(f"{event.type} is not about a conversation")
    return conversation_id


def move_job(conversation_id: int, team: str, *, by: str, key: str | None = None) -> NewJob:
    """Move a conversation's thread to a team's channel (`/sms route`, or an escalation,
    whose `key` makes it once). In the conversation's lane: no text is posted into the
    old thread while it moves."""
    return NewJob(
        key=f"move:{key or uuid.uuid4().hex}",
        kind=JobKind.MOVE_THREAD,
        lane=conversation_lane(conversation_id),
        conversation_id=conversation_id,
        note=team,
        user=by,
    )


def team_assign_job(conversation_id: int, team: str, *, key: str) -> NewJob:
    """Assign a conversation just routed to a team to one of its members, by the team's
    policy (none, round_robin, least_open); `key` makes it once per routing."""
    return NewJob(
        key=f"team-assign:{key}",
        kind=JobKind.ASSIGN_TEAM,
        lane=conversation_lane(conversation_id),
        conversation_id=conversation_id,
        note=team,
    )


def campaign_lane(campaign_id: str) -> str:
    """The lane of a campaign's own work (queueing its recipients, closing it)."""
    return f"campaign:{campaign_id}"


def campaign_pump_job(campaign_id: str) -> NewJob:
    """Queue the campaign's next recipients; it enqueues itself again until all are."""
    return NewJob(
        key=f"campaign-pump:{campaign_id}",
        kind=JobKind.CAMPAIGN_PUMP,
        lane=campaign_lane(campaign_id),
        note=campaign_id,
    )


def campaign_progress_job(campaign_id: str) -> NewJob:
    """Re-render the campaign's progress message: one key, so a burst of sends is one
    pending job; its own lane, paced apart from the campaign's sending."""
    return NewJob(
        key=f"campaign-progress:{campaign_id}",
        kind=JobKind.CAMPAIGN_PROGRESS,
        lane=f"campaign-progress:{campaign_id}",
        note=campaign_id,
    )


def campaign_results_job(campaign_id: str) -> NewJob:
    """Re-render the campaign's results message (a burst of answers is one job)."""
    return NewJob(
        key=f"campaign-results:{campaign_id}",
        kind=JobKind.CAMPAIGN_RESULTS,
        lane=f"campaign-results:{campaign_id}",
        note=campaign_id,
    )


def close_campaign_job(campaign_id: str, *, early: bool = False) -> NewJob:
    """Close the campaign's answers when their window is over (enqueued due then). Its
    own lane: waiting for its time at a lane's head, it would hold up what follows.
    `early`: someone closes them now; the job due at the window's end stays, and finds
    them closed."""
    name = f"campaign-close{'-early' if early else ''}:{campaign_id}"
    return NewJob(key=name, kind=JobKind.CLOSE_CAMPAIGN, lane=name, note=campaign_id)


def feedback_report_job(request: ReportRequest) -> NewJob:
    """Post the ratings report someone asked for in the inbox channel, with its
    distribution chart in the report's thread; once per request."""
    key = f"feedback-report:{request.by}:{request.at.isoformat()}"
    return NewJob(
        key=key,
        kind=JobKind.FEEDBACK_REPORT,
        lane=key,
        user=request.by,
        note=request.model_dump_json(),
    )
