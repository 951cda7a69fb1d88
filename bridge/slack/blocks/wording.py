"""The domain's events and outcomes in Slack's words (mrkdwn): every sentence the
bridge tells people about what happened, in one place. Text from outside (a
subscriber's, an agent's, a file's) is escaped here."""

from __future__ import annotations

from typing import assert_never

from bridge.ai.draft_decisions import Taken
from bridge.events import (
    AttachmentsDropped,
    AwayReplySent,
    ConversationAssigned,
    ConversationFlagged,
    ConversationReopened,
    ConversationResolved,
    ConversationRouted,
    ConversationUnassigned,
    ConversationUnflagged,
    DeliveryFailed,
    Event,
    FailureReason,
    FeedbackLow,
    JobDied,
    KeywordAnswered,
    KnowledgeNotReloaded,
    KnowledgeReloaded,
    KnowledgeStatus,
    Problem,
    Refusal,
    ReplyCost,
    ReplyHeld,
    ReplyRefused,
    ReplyReleased,
    ReplyScheduled,
    ReplySent,
    ReplyTooLate,
    SendFailure,
    SlaBreached,
    Snag,
    StillMarketing,
    Stopped,
    TeachOffered,
    TooLong,
    load_event,
    load_problem,
)
from bridge.models import ASSISTANT, Alert, DraftState
from bridge.phones import display
from bridge.slack.blocks.campaign_words import (
    CAMPAIGN_DIALOG,
    CAMPAIGNS_OFF,
    campaign_list_text,
    campaign_move_text,
    no_such_campaign_text,
)
from bridge.slack.blocks.feedback_report import report_summary
from bridge.slack.blocks.mrkdwn import counted, escape, mention, mention_any, slack_time
from bridge.slack.blocks.teach_words import corrections_text
from bridge.threading.commands.answers import (
    AdminOnly,
    Answer,
    AwayState,
    AwayUnclear,
    CampaignList,
    CampaignMove,
    CannedBroken,
    CannedList,
    CannedNeedsField,
    CannedRemoved,
    CannedSaved,
    CannedSending,
    CannedUnknown,
    ContactCard,
    FeedbackReported,
    HelpText,
    KnowledgeCorrections,
    NoSuchCampaign,
    NoSuchTeam,
    PushLink,
    Rerouting,
    Said,
    StartedSending,
    WeeksUnclear,
)
from bridge.threading.conversation_desk import Change, Changed
from bridge.threading.opening_hours import Opening, when_text

WINDOW_CLOSED = (
    "WhatsApp only allows free-form replies within 24 hours of the customer's last message;"
    " template messages are not supported yet"
)
SNAGS = {
    Snag.NOTHING_TO_SEND: "There is nothing to send.",
    Snag.WRITE_SOMETHING: "Write something to send.",
    Snag.ALREADY_DECIDED: "This reply was already sent or cancelled.",
    Snag.EDIT_MADE_NOTE: "Not sent: the edit made it a note, which stays internal.",
    Snag.EDIT_MADE_MARKETING: (
        "Not sent: the edit made it read like marketing. Send it as a new reply."
    ),
    Snag.UNRECORDED: (
        "Marked failed, but it may have gone out: Twilio's message for it is already another"
        " reply's in the store. Check the conversation before sending it again."
    ),
    Snag.EMPTY_DRAFT: "The reply is empty.",
    Snag.NOT_A_MEMBER: (
        "Not sent: only members of the SMS inbox channel, in this workspace, can text customers."
    ),
    Snag.WINDOW_CLOSED: f"Not sent: {WINDOW_CLOSED}.",
}
SAID = {
    Said.ASSISTANT_OFF: "The assistant is off (`ai.enabled: false` in BRIDGE_CONFIG).",
    Said.NEEDS_FROM_NUMBER: "Starting conversations needs TWILIO_FROM_NUMBER to be set.",
    Said.WHICH_CONVERSATION: "Which conversation? Add its number, like `#42`, or a phone number.",
    Said.NO_SUCH_CONVERSATION: "No conversation with that number. Try `#42` or the phone number.",
    Said.NO_CANNED: "No canned responses yet: `/sms canned add <name> <text>`.",
    Said.CAMPAIGN_DIALOG: CAMPAIGN_DIALOG,
    Said.CAMPAIGNS_OFF: CAMPAIGNS_OFF,
    Said.PUSH_OFF: (
        "Browser notifications are off: set `notifications.web_push` in BRIDGE_CONFIG"
        " (`sms-bridge push keys` makes its key)."
    ),
}
TOO_LATE = {
    "edit": "Edits in Slack are not re-sent",
    "delete": "Deleting it in Slack does not unsend it",
}


def problem_text(problem: Problem) -> str:
    """Why a text does not go out."""
    if isinstance(problem, Refusal):
        who = display(problem.subscriber)
        if problem.opted_out:
            # A date token: each reader's Slack shows it in their own time zone.
            when = f" ({slack_time(problem.revoked_at)})" if problem.revoked_at else ""
            text = f"Not sent: {who} opted out of texts{when}. They can text START to opt back in."
        else:
            text = f"Not sent: {who} has not agreed to marketing texts."
        promo = f" (“{escape(problem.promo)}” reads like marketing.)" if problem.promo else ""
        return text + promo
    if isinstance(problem, TooLong):
        return f"{problem.characters} characters is over the {problem.limit} an SMS can carry."
    if isinstance(problem, StillMarketing):
        return (
            f"“{escape(problem.promo)}” still reads like marketing. Remove it to send as support."
        )
    if isinstance(problem, Stopped):
        return SNAGS[problem.snag]
    assert_never(problem)


def failure_text(failure: SendFailure) -> str:
    """The provider's reason in words; a closed WhatsApp window reads like the guard's."""
    words = WINDOW_CLOSED if failure.reason is FailureReason.WINDOW_CLOSED else failure.detail
    return words + (f" ({failure.code})" if failure.code is not None else "")


def _refused(event: ReplyRefused) -> str:
    problem = event.problem
    if event.author == ASSISTANT:  # a thread note: the assistant reads no ephemerals
        return f"The assistant's reply was not sent: {problem_text(problem)}"
    if isinstance(problem, TooLong) and not event.edit:
        return f"Not sent: {problem_text(problem)} Shorten it and send again."
    if not event.edit or isinstance(problem, Refusal | Stopped):
        return problem_text(problem)  # these say "Not sent" themselves where they need to
    return f"Not sent: {problem_text(problem)}"


def _cost(event: ReplyCost) -> str:
    note = f"This reply goes out as {event.segments} SMS segments ({event.characters} characters)."
    if event.culprits:
        shown = escape(" ".join(event.culprits))
        note += (
            f" Because of {shown} (emoji or special characters), each segment holds"
            " 70 characters instead of 160."
        )
    return note


def event_text(event: Event) -> str:
    """An event as a line in its thread, or a note to the agent it concerns."""
    match event:
        case ConversationAssigned(assignee=assignee, by=by):
            if assignee == by:
                return f"{mention(by)} took this conversation"
            return f"Assigned to {mention(assignee)} by {mention(by)}"
        case ConversationUnassigned(assignee=assignee, by=by):
            return f"Unassigned from {mention(assignee)} by {mention(by)}"
        case ConversationResolved(by=by):
            return f"Resolved by {mention(by)}"
        case ConversationReopened(by=None):
            return (
                f":leftwards_arrow_with_hook: #{event.conversation_id} reopened: "
                f"a new text from {display(event.subscriber)}"
            )
        case ConversationReopened(by=str(by)):
            return f"Reopened by {mention(by)}"
        case ConversationFlagged(by=by, reason=reason) if by == ASSISTANT:
            # its draft card in this thread says why: the reason once, not twice
            return f"Flagged by {mention(by)}: its draft says why"
        case ConversationFlagged(by=by, reason=reason):
            return f"Flagged by {mention(by)}" + (f": {escape(reason)}" if reason else "")
        case ConversationUnflagged(by=by):
            return f"Unflagged by {mention(by)}"
        case KeywordAnswered(body=body):
            return f":robot_face: The bridge texted back: “{escape(body)}”"
        case AwayReplySent(body=body):
            return (
                f":crescent_moon: Closed now, so the bridge sent the away reply: “{escape(body)}”"
            )
        case ReplySent(author=author, body=body, canned=canned):
            label = f" canned “{escape(canned)}”" if canned else ""
            return f"{mention(author)} sent{label}: “{escape(body)}”"
        case ReplyReleased(author=author, body=body):
            return f"{mention(author)} sent instead, as support-only: “{escape(body)}”"
        case ReplyHeld(promo=promo, subscriber=subscriber):
            return (
                f"Held: “{escape(promo)}” reads like marketing, and {display(subscriber)} "
                "has not agreed to marketing texts. Edit it into a support-only reply, "
                "or cancel it."
            )
        case ReplyRefused():
            return _refused(event)
        case AttachmentsDropped():
            return "Attachments are not sent as MMS yet; only the text of this reply goes out."
        case ReplyScheduled(send_at=send_at):
            return (
                "Marketing texts wait for 8:00-21:00 where the subscriber is: this one goes "
                f"out {slack_time(send_at)}."
            )
        case ReplyCost():
            return _cost(event)
        case ReplyTooLate(change=change):
            return (
                f"That reply was already sent as a text. {TOO_LATE[change]}; "
                "send a new reply to correct it."
            )
        case DeliveryFailed(subscriber=subscriber, failure=failure):
            return f":warning: Not delivered to {display(subscriber)}: {failure_text(failure)}."
        case JobDied(error=error):
            return f":warning: The bridge gave up on a task ({escape(error or 'no reason')})."
        case ConversationRouted():
            return routed_text(event)
        case SlaBreached():
            return _sla_breached(event)
        case FeedbackLow(rating=rating):
            return f":rotating_light: Rated {rating}/5 in reply to a rating request"
        case TeachOffered():
            return (
                ":mortar_board: You answered a text the assistant handed to a person."
                " Teach it your answer, so it drafts it next time?"
            )
    raise ValueError(f"no words for {event.type}")


def note_text(payload: str) -> str:
    """What a job carries, in words: its event, or the ready text of a job that an
    earlier release stored (it still shows as it was written)."""
    event = load_event(payload)
    return payload if event is None else event_text(event)


def taken_text(taken: Taken) -> str:
    """Why a click on a draft's card did nothing."""
    who = mention(taken.by or ASSISTANT)
    if taken.state is None:
        text = "That draft is gone."
    elif taken.state in (DraftState.SENT, DraftState.EDITED, DraftState.AUTO_SENT):
        text = f"That draft was already sent by {who}."
    elif taken.state is DraftState.DISCARDED:
        text = f"That draft was already discarded by {who}."
    elif taken.state is DraftState.SUPERSEDED:
        text = "That draft was replaced by a newer one, which answers the later texts too."
    else:
        text = "That draft has no reply to send."
    return text + (" Your send had already gone out." if taken.sent_anyway else "")


def draft_problem_text(problem: Taken | Problem) -> str:
    return taken_text(problem) if isinstance(problem, Taken) else problem_text(problem)


def draft_note_text(note: str) -> str:
    """A draft's note: why the assistant did not send it, or the engine's words."""
    problem = load_problem(note)
    if problem is None:
        return escape(note)
    return f"Not sent automatically: {problem_text(problem)}"


def _changed(changed: Changed) -> str:
    number, assignee = f"#{changed.conversation_id}", mention(changed.assignee or "")
    done = {
        Change.ASSIGN: (
            f"Assigned {number} to {assignee}.",
            f"{number} is already assigned to {assignee}.",
        ),
        Change.UNASSIGN: (f"Unassigned {number}.", f"{number} is not assigned."),
        Change.RESOLVE: (f"Resolved {number}.", f"{number} is already resolved."),
        Change.REOPEN: (f"Reopened {number}.", f"{number} is already open."),
        Change.FLAG: (f"Flagged {number}.", f"Flagged {number}."),
        Change.UNFLAG: (f"Unflagged {number}.", f"{number} is not flagged."),
        Change.SEEN: (f"Marked {number} as seen.", f"Marked {number} as seen."),
    }[changed.change]
    return done[0] if changed.done else done[1]


def _contact(card: ContactCard) -> str:
    contact, consent = card.contact, card.consent
    details = ", ".join(f"{k}={escape(v)}" for k, v in sorted(contact.fields.items()))
    state = "opted out" if not consent.conversational else "texts allowed"
    marketing = "yes" if consent.marketing else "no"
    return (
        f"#{card.conversation_id} {display(contact.phone)}: {escape(contact.name or '(no name)')}"
        + (f" · {details}" if details else "")
        + f" · consent: {state}, marketing {marketing}"
    )


def hours_text(hours: Opening) -> str:
    """Open or closed, for the header card and App Home ("Closed · opens tomorrow at
    7:00"), in the business's own time zone: opening hours are read there."""
    if hours.open:
        return "Open" + (f" until {when_text(hours.until, hours.at)}" if hours.until else "")
    state = "Away" if hours.away else "Closed"
    if hours.next_open is not None:
        return f"{state} · opens {when_text(hours.next_open, hours.at)}"
    if hours.away:
        return f"{state} · until `/sms away off`"
    return f"{state} · no opening hours set"


def _away(answer: AwayState) -> str:
    now = hours_text(answer.opening) + "."
    if answer.switched == "on":
        return f"Away is on: texts are answered as after hours. {now} `/sms away off` ends it."
    return ("Away is off. " if answer.switched == "off" else "") + now


AWAY_USAGE = (
    "`/sms away on`, `/sms away on until 17:00` (or tomorrow, monday 9:00, 2026-12-24,"
    " 2h), `/sms away off`, or `/sms away` to see it."
)


def _entries(count: int) -> str:
    return counted(count, "entry", "entries")


def answer_text(answer: Answer) -> str:
    """A `/sms` command's answer, for the person who typed it."""
    match answer:
        case Said():
            return SAID[answer]
        case AdminOnly(action=action):
            return f"Only admins can use `/sms {action}`."
        case HelpText(text=text):
            return escape(text)
        case StartedSending(phone=phone, conversation_id=number):
            return f"Sending to {display(phone)} (#{number}); it shows in its thread."
        case CannedList(items=items):
            lines = [f"• `{name}`: {escape(text)}" for name, text in items]
            return "Canned responses:\n" + "\n".join(lines)
        case CannedSaved(name=name):
            return f"Saved `{name}`."
        case CannedRemoved(name=name, removed=removed):
            return f"Removed `{name}`." if removed else f"No `{name}`."
        case CannedBroken(error=error):
            return f"That text has a broken placeholder: {escape(error)}."
        case CannedUnknown(name=name):
            return f"No canned response `{name}`; `/sms canned list` shows them."
        case CannedNeedsField(name=name, field=field, subscriber=subscriber):
            return (
                f"Not sent: `{name}` needs `{{{field}}}`, and {display(subscriber)} has none. "
                f"Set it with `/sms contact #{answer.conversation_id} {field}=…`."
            )
        case CannedSending(name=name, conversation_id=number, text=text):
            return f"Sending `{name}` to #{number}: “{escape(text)}”"
        case ContactCard():
            return _contact(answer)
        case Changed():
            return _changed(answer)
        case KnowledgeStatus(entries=entries, source=source):
            where = escape(source) if source is not None else "the config file only"
            return f"Knowledge base: {_entries(entries)} from {where}."
        case KnowledgeReloaded(entries=entries, warnings=warnings):
            counted_warnings = f" ({warnings} warnings)" if warnings else ""
            return f"Knowledge base reloaded: {_entries(entries)}{counted_warnings}."
        case KnowledgeNotReloaded(where=where, line=line, problem=problem):
            at = escape(where) + (f":{line}" if line is not None else "")
            return (
                f"The knowledge base was not reloaded: {at}: {escape(problem)}."
                " The previous one stays."
            )
        case AwayState():
            return _away(answer)
        case AwayUnclear(text=text):
            return f"“{escape(text)}” is not a time I can read. {AWAY_USAGE}"
        case Rerouting():
            return rerouting_text(answer)
        case NoSuchTeam():
            return no_such_team_text(answer)
        case FeedbackReported(report=report):
            return report_summary(report)
        case WeeksUnclear(text=text, most=most):
            return (
                f"“{escape(text)}” is not a number of weeks (1 to {most}):"
                " `/sms feedback report weeks 12`."
            )
        case PushLink(url=url, minutes=minutes):
            return (
                f"Open <{escape(url)}|this link> in the browser that should notify you, and"
                f" turn notifications on. It is yours alone and works for {minutes} minutes."
            )
        case CampaignList():
            return campaign_list_text(answer)
        case CampaignMove():
            return campaign_move_text(answer)
        case NoSuchCampaign():
            return no_such_campaign_text(answer)
        case KnowledgeCorrections(entries=entries):
            return corrections_text(entries)
    return problem_text(answer)


# --- notifications (`notify/`): alerts and digests in Slack -------------------------


def alert_text(alert: Alert, *, mentions: tuple[str, ...] = ()) -> str:
    """One alert: who it is for, its title in bold, its details quoted (all escaped)."""
    head = " ".join(mention_any(target) for target in mentions)
    icon = ":rotating_light:" if alert.urgent else ":bell:"
    lines = [f"{head} {icon} *{escape(alert.title)}*".strip()]
    lines += [f">{escape(line)}" for line in alert.text.splitlines() if line.strip()]
    return "\n".join(lines)


def digest_text(title: str, alerts: tuple[Alert, ...], *, mentions: tuple[str, ...] = ()) -> str:
    """A digest: one line per alert, the urgent ones marked."""
    head = " ".join(mention_any(target) for target in mentions)
    lines = [f"{head} :inbox_tray: *Digest: {escape(title)}*".strip()]
    for alert in alerts:
        mark = ":rotating_light: " if alert.urgent else "• "
        first = alert.text.splitlines()[0] if alert.text else ""
        detail = f": “{escape(first)}”" if first else ""
        lines.append(f"{mark}{escape(alert.title)}{detail}")
    return "\n".join(lines)


# --- routing ------------------------------------------------------------------------


def team_label(team: str | None) -> str:
    """The header card's team, before its assignee ("" when not routed)."""
    return f":busts_in_silhouette: {escape(team)} · " if team else ""


def _link(url: str | None, label: str) -> str:
    return f"<{escape(url)}|{label}>" if url else label


def routed_text(event: ConversationRouted) -> str:
    """The thread's note of where the conversation went, and what decided it."""
    team = f"*{escape(event.team)}*"
    if event.by is None:
        return f":twisted_rightwards_arrows: Routed to {team} · {escape(event.rule or '')}"
    earlier = f" · {_link(event.earlier_thread, 'earlier messages')}"
    return f":twisted_rightwards_arrows: Moved to {team} by {mention(event.by)}{earlier}"


def moved_text(team: str, by: str, new_thread: str | None) -> str:
    """The note left in a thread `/sms route` moved away from."""
    return (
        f":twisted_rightwards_arrows: Moved to *{escape(team)}* by {mention(by)}: later"
        f" messages are in {_link(new_thread, 'its new thread')}."
    )


def rerouting_text(answer: Rerouting) -> str:
    team = f"*{escape(answer.team)}*"
    if answer.already:
        return f"#{answer.conversation_id} is in {team} already."
    return f"Moving #{answer.conversation_id} to {team}; its new thread links the old one."


def no_such_team_text(answer: NoSuchTeam) -> str:
    teams = ", ".join(f"`{escape(team)}`" for team in answer.teams)
    known = f"The teams are {teams}." if teams else "No teams are set up (`routing.teams`)."
    if not answer.name:  # run from the picker, which asks for no team
        return f"Name the team: `/sms route <target> <team>`. {known}"
    return f"There is no team “{escape(answer.name)}”. {known}"


# --- the first-response timer -----------------------------------------------------


def _sla_breached(event: SlaBreached) -> str:
    """The escalation of a text that waited past the first-response time."""
    said = f":alarm_clock: No reply for {counted(event.minutes, 'business minute')}"
    if not event.notify:
        return said + "."
    return f"{said} — {' '.join(mention_any(target) for target in event.notify)}"
