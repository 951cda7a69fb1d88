"""A campaign's own mistakes, found before anything is stored or sent: each refused
with one line naming the key."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bridge.campaigns.errors import CampaignError
from bridge.campaigns.models import CampaignSpec, Feedback
from bridge.routing_settings import RoutingSection
from bridge.templates import TemplateError, placeholders
from bridge.threading.segments import MAX_BODY

# What every text may name, besides the fields some contact has.
BUILT_IN = ("name", "first_name", "phone", "business_name", "business_contact")
# What a poll's confirmation is filled with (`poll_flow`: exactly these names).
POLL_CONFIRM = {"choice", "label"}
# The longest a campaign takes answers (30 days): longer, "B" would be read as a vote
# long after anyone remembers the poll.
MAX_OPEN_HOURS = 720.0


def known_placeholders(contact_fields: Iterable[str]) -> set[str]:
    return {*BUILT_IN, *(field.lower() for field in contact_fields)}


def _check_names(key: str, template: str, known: set[str], *, fold: bool = True) -> None:
    """`CampaignError` naming `key` for a malformed template or a name not in `known`
    (`fold`: names match whatever their case, as a contact's fields do)."""
    try:
        names = placeholders(template)
    except TemplateError as exc:
        raise CampaignError(f"{key}: {exc}") from None
    unknown = [name for name in names if (name.lower() if fold else name) not in known]
    if unknown:
        raise CampaignError(
            f"{key}: unknown placeholder {{{unknown[0]}}} (known: {', '.join(sorted(known))})"
        )


def _check_feedback(feedback: Feedback, known: set[str], routing: RoutingSection) -> None:
    """Its texts are personalised as the campaign's text is (the review request also
    with {review_link}); its route names a routing team."""
    for key, template in (
        ("review_text", feedback.review_text),
        ("follow_up", feedback.follow_up),
        ("confirm", feedback.confirm),
    ):
        if template is not None:
            extra = {"review_link"} if key == "review_text" else set()
            _check_names(f"feedback.{key}", template, known | extra)
    if feedback.route is not None and routing.team_named(feedback.route) is None:
        teams = ", ".join(routing.teams) or "none"
        raise CampaignError(
            f"feedback.route: no routing team {feedback.route!r} (routing.teams: {teams})"
        )


def check(spec: CampaignSpec, known: set[str], *, now: datetime, routing: RoutingSection) -> None:
    """`CampaignError` for the first problem of `spec`, in the file's order of keys."""
    if not spec.name.strip():
        raise CampaignError("name: a campaign needs a name")
    if not spec.text.strip():
        raise CampaignError("text: the text is empty")
    if len(spec.text) > MAX_BODY:
        raise CampaignError(f"text: {len(spec.text)} characters; at most {MAX_BODY}")
    _check_names("text", spec.text, known)
    flows = [key for key in ("poll", "feedback", "opt_in") if getattr(spec, key) is not None]
    if len(flows) > 1:
        raise CampaignError(f"{' and '.join(flows)}: a campaign asks for one kind of answer")
    if spec.poll is not None:
        letters = [letter.strip().upper() for letter in spec.poll.options]
        if len(letters) < 2:
            raise CampaignError("poll.options: a poll needs at least two options")
        twice = sorted({letter for letter in letters if letters.count(letter) > 1})
        if twice:
            raise CampaignError(f"poll.options: the letter {twice[0]} is used twice")
        if spec.poll.confirm is not None:
            _check_names("poll.confirm", spec.poll.confirm, POLL_CONFIRM, fold=False)
    if spec.feedback is not None:
        _check_feedback(spec.feedback, known, routing)
    if spec.opt_in is not None and spec.opt_in.confirm is not None:
        _check_names("opt_in.confirm", spec.opt_in.confirm, known)
    for key in flows:
        hours = getattr(spec, key).open_hours
        if not 0 < hours <= MAX_OPEN_HOURS:
            raise CampaignError(
                f"{key}.open_hours: {hours:g}; answers are taken for more than 0 and at most"
                f" {MAX_OPEN_HOURS:g} hours"
            )
    if spec.send_at is not None and spec.send_at < now:
        raise CampaignError(f"send_at: {spec.send_at.isoformat()} is in the past")
