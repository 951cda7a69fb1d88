"""The `/sms campaign` dialog's state → a `CampaignSpec`, or what is wrong by field
(its block id), as Slack shows it under that field. The state is data from outside:
read with bounds, a forged choice is an error like a wrong one."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bridge.campaigns.models import (
    Audience,
    CampaignKind,
    CampaignSpec,
    Feedback,
    OptInRequest,
    Poll,
)
from bridge.campaigns.validation import MAX_OPEN_HOURS
from bridge.slack.access import selected
from bridge.slack.blocks.campaign_modal import FLOWS, MAX_NAME, field
from bridge.threading.segments import MAX_BODY

_OPTION = re.compile(r"\s*([A-Za-z])\s*[:.)\-]\s*(\S.*?)\s*")
_TAG = re.compile(r"[^\s,;#]+")
_LINK = re.compile(r"https?://\S+")
MAX_OPTIONS = 10


def state(values: object, block: str) -> Mapping[str, Any]:
    """The state of the dialog's input in `block`, or {} when the payload lacks it."""
    fields = values.get(block) if isinstance(values, Mapping) else None
    found = fields.get(field(block)) if isinstance(fields, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def typed(values: object, block: str, limit: int) -> str:
    value = state(values, block).get("value")
    return value.strip()[:limit] if isinstance(value, str) else ""


def read_options(text: str) -> dict[str, str] | str:
    """Poll options, one a line ("A: Mango", "b) Strawberry"): letter → label, or what
    is wrong with them as written (how many a poll needs is the poll's own rule)."""
    options: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _OPTION.fullmatch(line)
        if match is None:
            return f"“{line.strip()[:40]}” is not an option like A: Mango"
        letter = match.group(1).upper()
        if letter in options:
            return f"{letter} is there twice"
        options[letter] = match.group(2)[:75]
    if len(options) > MAX_OPTIONS:
        return f"a poll has at most {MAX_OPTIONS} options"
    return options


def read_hours(text: str) -> float | str | None:
    """How long answers are taken: hours, None when not given, or what is wrong."""
    if not text:
        return None
    try:
        hours = float(text)
    except ValueError:
        return "Give a number of hours, like 24."
    if not 0 < hours <= MAX_OPEN_HOURS:
        return f"Between a few minutes and {MAX_OPEN_HOURS:g} hours (30 days)."
    return hours


def read_form(
    values: object,
    *,
    numbers: Sequence[str],
    segments: Sequence[str],
    now: datetime,
    draft: bool = False,
) -> tuple[CampaignSpec | None, dict[str, str]]:
    """The campaign the dialog describes, or None and the problems by block id.
    `draft`: for its preview, while the person types (it need not be named yet)."""
    errors: dict[str, str] = {}
    name = typed(values, "name", MAX_NAME) or ("draft" if draft else "")
    if not name:
        errors["name"] = "Name the campaign."
    kind_value = selected(state(values, "kind")) or CampaignKind.MARKETING.value
    kind = CampaignKind(kind_value) if kind_value in CampaignKind._value2member_map_ else None
    if kind is None:
        errors["kind"] = "Choose marketing or a support notice."
    number = selected(state(values, "from"))
    if number not in numbers:
        errors["from"] = "Choose one of the business numbers."
    segment = selected(state(values, "segment"))
    if segment is not None and segment not in segments:
        errors["segment"] = "Choose one of the saved segments."
    tags = tuple(dict.fromkeys(t.lower() for t in _TAG.findall(typed(values, "tags", 500))))
    if segment is None and not tags:
        errors["tags"] = "Choose a saved segment or name tags."
    text = typed(values, "text", MAX_BODY)
    if not text:
        errors["text"] = "Write the text."
    flow = selected(state(values, "flow")) or "none"
    poll: Poll | None = None
    feedback: Feedback | None = None
    opt_in: OptInRequest | None = None
    if flow not in FLOWS:
        errors["flow"] = "Choose what the replies are."
    elif flow == "poll":
        options = read_options(typed(values, "options", 500))
        if isinstance(options, str):
            errors["options"] = options[:1].upper() + options[1:] + "."
        else:
            poll = Poll(options=options)  # its count is the desk's rule, told on this field
    elif flow == "feedback":
        link = typed(values, "link", 500)
        if link and not _LINK.fullmatch(link):
            errors["link"] = "A review link starts with https://"
        feedback = Feedback(review_link=link or None)
    elif flow == "opt_in":
        opt_in = OptInRequest()
    hours = read_hours(typed(values, "open_hours", 20))
    if isinstance(hours, str):
        errors["open_hours"] = hours
    elif hours is not None:
        window = {"open_hours": hours}
        poll = poll and poll.model_copy(update=window)
        feedback = feedback and feedback.model_copy(update=window)
        opt_in = opt_in and opt_in.model_copy(update=window)
    send_at: datetime | None = None
    if selected(state(values, "when")) == "later":
        stamp = state(values, "send_at").get("selected_date_time")
        if not isinstance(stamp, int) or isinstance(stamp, bool):
            errors["send_at"] = "Choose when to send it."
        elif (send_at := datetime.fromtimestamp(stamp, UTC)) <= now:
            errors["send_at"] = "That time has passed: choose a later one."
    if errors or kind is None or number is None:
        return None, errors
    spec = CampaignSpec(
        name=name,
        kind=kind,
        from_number=number,
        to=Audience(tags=tags, segment=segment),
        text=text,
        poll=poll,
        feedback=feedback,
        opt_in=opt_in,
        send_at=send_at,
    )
    return spec, {}
