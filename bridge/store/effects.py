"""A write and the jobs it causes: one function per effect, which both engines call
and store in the same write as the change (SQLite: one transaction; MongoDB: the first
job carries the message and is the durable write). A new consequence of a write is a
line here, never in an engine.

Events are published (a PUBLISH job) only when some notifier wants their type: an
inbound text is the hot path, and a job nobody needs costs every text."""

from __future__ import annotations

from datetime import datetime, timedelta

from bridge.events import (
    ConversationOpened,
    ConversationRouted,
    DraftReady,
    MessageAssessed,
    MessageReceived,
    Publishing,
    SlaBreached,
)
from bridge.jobs import (
    first_response_job,
    move_job,
    post_job,
    publish_job,
    send_job,
    team_assign_job,
    thread_note_job,
)
from bridge.models import SLA_TIMER, Conversation, DraftState, Message, NewJob


def after_inbound(
    conversation: Conversation, message: Message, *, opened: bool, publishing: Publishing
) -> list[NewJob]:
    """A subscriber's text was recorded (`opened`: it opened its conversation): post it
    into its thread, and publish the conversation's opening and the text."""
    jobs = [post_job(message)]
    if opened and publishing.wants(ConversationOpened):
        event = ConversationOpened(
            conversation_id=conversation.id,
            channel=conversation.channel,
            business_number=conversation.business_number,
            subscriber=conversation.subscriber,
        )
        jobs.append(publish_job(event, key=f"opened:{conversation.id}"))
    if publishing.publishes_received(message):
        received = MessageReceived(
            conversation_id=conversation.id,
            message_id=message.id,
            subscriber=conversation.subscriber,
            body=message.body,
            keyword=message.keyword,
        )
        jobs.append(publish_job(received, key=f"received:{message.id}"))
    return jobs


def after_queued(message: Message) -> list[NewJob]:
    """A text the business sends is QUEUED (an agent's reply, a system text, a held
    reply released): send it."""
    return [send_job(message)]


def after_draft(message: Message, *, publishing: Publishing) -> list[NewJob]:
    """The assistant's first draft of a text was saved: the text's intent and urgency
    are known (the notification rules judge it now); if it proposes a reply, a person
    may send it (a draft sent by the assistant, a hand-off or no draft is not ready)."""
    jobs = []
    if publishing.wants(MessageAssessed):
        assessed = MessageAssessed(
            conversation_id=message.conversation_id,
            message_id=message.id,
            intent=message.intent,
            urgency=message.urgency,
        )
        jobs.append(publish_job(assessed, key=f"assessed:{message.id}"))
    draft = message.draft
    if draft is None or draft.state is not DraftState.PROPOSED or draft.reply is None:
        return jobs
    if publishing.wants(DraftReady):
        ready = DraftReady(
            conversation_id=message.conversation_id, message_id=message.id, reply=draft.reply
        )
        jobs.append(publish_job(ready, key=f"draft:{message.id}"))
    return jobs


def after_routed(
    routed: ConversationRouted, thread_ts: str, *, publishing: Publishing
) -> list[NewJob]:
    """A conversation's thread is now in its team's channel: say so in that thread,
    assign it by the team's policy, and publish it. Keyed by the thread, so a retried
    write does each once."""
    key = f"routed:{routed.conversation_id}:{thread_ts}"
    jobs = [
        thread_note_job(routed, key=key),
        team_assign_job(routed.conversation_id, routed.team, key=key),
    ]
    if publishing.wants(ConversationRouted):
        jobs.append(publish_job(routed, key=key))
    return jobs


def first_response_timer(message: Message, minutes: int | None) -> tuple[NewJob, datetime] | None:
    """A subscriber's text (a keyword aside) begins or joins a wait for the team's first
    answer (`notifications.sla`, `minutes`; None: no timer): its check, due when that
    many clock minutes have passed. Business minutes are never fewer, so the check,
    which counts them, waits on if the time is not up yet."""
    if minutes is None or (message.keyword is not None and message.keyword.replaces_post):
        return None
    return first_response_job(message), message.created_at + timedelta(minutes=minutes)


def after_breach(breach: SlaBreached, *, publishing: Publishing) -> list[NewJob]:
    """A wait ran past the first-response time: mention the people to tell in the
    thread, move it to the team to escalate to, and publish it (for the notification
    rules)."""
    key = f"sla:{breach.conversation_id}:{breach.message_id}"
    jobs = [thread_note_job(breach, key=key)]
    if breach.route is not None:
        jobs.append(move_job(breach.conversation_id, breach.route, by=SLA_TIMER, key=key))
    if publishing.wants(SlaBreached):
        jobs.append(publish_job(breach, key=key))
    return jobs
