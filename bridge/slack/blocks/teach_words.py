"""What teaching the assistant tells people, in Slack's words (mrkdwn; text from
outside escaped)."""

from __future__ import annotations

from bridge.ai.learning_desk import LessonProblem
from bridge.events import KnowledgeNotReloaded
from bridge.models import EntryOutcomes, Lesson, LessonState
from bridge.slack.blocks.mrkdwn import escape

_PROBLEMS = {
    LessonProblem.NOT_ADMIN: "Only admins (`slack.admins` in the business config) can approve"
    " or reject lessons for the assistant.",
    LessonProblem.NOT_HANDED_OFF: "There is nothing to teach from that text any more"
    " (it is gone, or the assistant answered it).",
    LessonProblem.ALREADY_PROPOSED: "A lesson from that text was proposed already;"
    " an admin decides it in App Home.",
    LessonProblem.NO_QUESTION: "Write what the customer asked.",
    LessonProblem.NO_ANSWER: "A new entry needs its answer.",
    LessonProblem.NO_ENTRY: "That entry is no longer in the knowledge base;"
    " choose another or a new entry.",
    LessonProblem.DECIDED: "That lesson was decided already.",
    LessonProblem.NO_FOLDER: "The assistant learns into learned.yml in the knowledge folder:"
    " set `knowledge.path` to a folder in the business config.",
}


def lesson_problem_text(problem: LessonProblem) -> str:
    return _PROBLEMS[problem]


def lesson_outcome_text(outcome: Lesson | LessonProblem | KnowledgeNotReloaded) -> str:
    """What the admin who decided is told."""
    match outcome:
        case LessonProblem():
            return lesson_problem_text(outcome)
        case KnowledgeNotReloaded(where=where, line=line, problem=problem):
            at = escape(where) + (f":{line}" if line is not None else "")
            return (
                f"Not learned: {at}: {escape(problem)}. Fix the file;"
                " the knowledge base in use stays as it was."
            )
        case Lesson(state=LessonState.APPROVED, question=question):
            return (
                f":mortar_board: Learned: “{escape(question)}” is in learned.yml"
                " and drafts use it now."
            )
        case Lesson(question=question):
            return f"Rejected: “{escape(question)}”."


def corrections_text(entries: tuple[tuple[EntryOutcomes, str | None], ...]) -> str:
    """`/sms kb corrections`: entries by how often agents edited or discarded their drafts."""
    if not entries:
        return "No draft from the knowledge base has been edited or discarded yet."
    lines = ["The knowledge-base entries agents correct most:"]
    for outcome, title in entries:
        name = (
            f"*{escape(title)}* (`{escape(outcome.entry_id)}`)"
            if title
            else (f"`{escape(outcome.entry_id)}` (no longer in the base)")
        )
        lines.append(
            f"• {name}: {outcome.edited} edited, {outcome.discarded} discarded,"
            f" {outcome.sent} sent as drafted"
        )
    return "\n".join(lines)
