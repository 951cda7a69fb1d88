"""A campaign's own mistakes, found before anything is stored or sent: each refused
with one line naming the key."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bridge.campaigns.errors import CampaignError
from bridge.campaigns.models import CampaignSpec
from bridge.templates import TemplateError, placeholders
from bridge.threading.segments import MAX_BODY

# What every text may name, besides the fields some contact has.
BUILT_IN = ("name", "first_name", "phone", "business_name", "business_contact")


def known_placeholders(contact_fields: Iterable[str]) -> set[str]:
    return {*BUILT_IN, *(field.lower() for field in contact_fields)}


def check(spec: CampaignSpec, known: set[str], *, now: datetime) -> None:
    """`CampaignError` for the first problem of `spec`, in the file's order of keys."""
    if not spec.name.strip():
        raise CampaignError("name: a campaign needs a name")
    if not spec.text.strip():
        raise CampaignError("text: the text is empty")
    if len(spec.text) > MAX_BODY:
        raise CampaignError(f"text: {len(spec.text)} characters; at most {MAX_BODY}")
    try:
        names = placeholders(spec.text)
    except TemplateError as exc:
        raise CampaignError(f"text: {exc}") from None
    unknown = [name for name in names if name.lower() not in known]
    if unknown:
        raise CampaignError(
            f"text: unknown placeholder {{{unknown[0]}}} (known: {', '.join(sorted(known))})"
        )
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
    if spec.send_at is not None and spec.send_at < now:
        raise CampaignError(f"send_at: {spec.send_at.isoformat()} is in the past")
