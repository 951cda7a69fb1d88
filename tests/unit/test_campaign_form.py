"""The `/sms campaign` dialog: its fields become a `CampaignSpec`, and what is wrong is
said on the field that is wrong (nothing is created then)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bridge.campaigns.errors import CampaignError
from bridge.campaigns.models import Audience, CampaignKind, Poll
from bridge.campaigns.validation import MAX_OPEN_HOURS, check, known_placeholders
from bridge.routing_settings import RoutingSection
from bridge.slack.blocks.campaign_modal import campaign_modal
from bridge.slack.listeners.campaign_dialog import error_field
from bridge.slack.listeners.campaign_form import read_form, read_options

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
NUMBERS = ("+15005550006", "+15005550007")


def typed(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def chosen(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value}}


def values(**changes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    form: dict[str, dict[str, Any]] = {
        "name": {"campaign_field_name": typed("flavor-poll")},
        "kind": {"campaign_field_kind": chosen("marketing")},
        "from": {"campaign_field_from": chosen(NUMBERS[1])},
        "segment": {"campaign_field_segment": {"type": "static_select", "selected_option": None}},
        "tags": {"campaign_field_tags": typed("Regulars, vip")},
        "text": {"campaign_field_text": typed("Hi {first_name}! Which flavor? Reply A or B.")},
        "flow": {"campaign_field_flow": chosen("poll")},
        "options": {"campaign_field_options": typed("A: Mango\nb) Strawberry\n")},
        "link": {"campaign_field_link": typed("")},
        "open_hours": {"campaign_field_open_hours": {"type": "number_input", "value": None}},
        "when": {"campaign_field_when": chosen("now")},
        "send_at": {
            "campaign_field_send_at": {"type": "datetimepicker", "selected_date_time": None}
        },
    }
    form.update(changes)
    return form


def test_a_poll_campaign_is_read() -> None:
    spec, errors = read_form(values(), numbers=NUMBERS, segments=(), now=NOW)
    assert errors == {}
    assert spec is not None
    assert spec.name == "flavor-poll"
    assert spec.kind is CampaignKind.MARKETING
    assert spec.from_number == NUMBERS[1]
    assert spec.to == Audience(tags=("regulars", "vip"))
    assert spec.poll == Poll(options={"A": "Mango", "B": "Strawberry"})
    assert spec.send_at is None


def test_options_are_forgiving_but_need_distinct_letters() -> None:
    assert read_options("A: Mango\nB - Strawberry\nc. Vanilla") == {
        "A": "Mango",
        "B": "Strawberry",
        "C": "Vanilla",
    }
    assert isinstance(read_options("Mango and Kiwi"), str)
    _, errors = read_form(
        values(options={"campaign_field_options": typed("A: Mango\na: Kiwi")}),
        numbers=NUMBERS,
        segments=(),
        now=NOW,
    )
    assert set(errors) == {"options"}


def test_a_one_option_poll_is_the_desks_to_refuse_on_the_options_field() -> None:
    spec, errors = read_form(
        values(options={"campaign_field_options": typed("A: Mango")}),
        numbers=NUMBERS,
        segments=(),
        now=NOW,
    )
    assert spec is not None
    assert not errors
    with pytest.raises(CampaignError) as refused:
        check(spec, known_placeholders(()), now=NOW, routing=RoutingSection())
    assert error_field(refused.value) == "options"


def test_each_problem_is_told_on_its_field() -> None:
    past = int((NOW - timedelta(hours=1)).timestamp())
    form = values(
        tags={"campaign_field_tags": typed("")},
        when={"campaign_field_when": chosen("later")},
        send_at={"campaign_field_send_at": {"type": "datetimepicker", "selected_date_time": past}},
        flow={"campaign_field_flow": chosen("feedback")},
        link={"campaign_field_link": typed("not a link")},
        **{"from": {"campaign_field_from": chosen("+19999999999")}},
    )
    spec, errors = read_form(form, numbers=NUMBERS, segments=(), now=NOW)
    assert spec is None
    assert set(errors) == {"tags", "send_at", "link", "from"}


def test_a_segment_a_later_time_and_an_opt_in_request() -> None:
    later = int((NOW + timedelta(days=1)).timestamp())
    form = values(
        segment={"campaign_field_segment": chosen("lapsed")},
        tags={"campaign_field_tags": typed("")},
        kind={"campaign_field_kind": chosen("support")},
        flow={"campaign_field_flow": chosen("opt_in")},
        when={"campaign_field_when": chosen("later")},
        send_at={"campaign_field_send_at": {"type": "datetimepicker", "selected_date_time": later}},
    )
    spec, errors = read_form(form, numbers=NUMBERS, segments=("lapsed",), now=NOW)
    assert errors == {}
    assert spec is not None
    assert spec.to == Audience(segment="lapsed")
    assert spec.kind is CampaignKind.SUPPORT
    assert spec.opt_in is not None
    assert spec.poll is None
    assert spec.send_at == NOW + timedelta(days=1)


def hours(value: str) -> dict[str, Any]:
    return {"campaign_field_open_hours": {"type": "number_input", "value": value}}


def test_how_long_answers_are_taken_is_chosen_in_the_dialog() -> None:
    spec, errors = read_form(values(open_hours=hours("48")), numbers=NUMBERS, segments=(), now=NOW)
    assert errors == {}
    assert spec is not None
    assert spec.poll is not None
    assert spec.poll.open_hours == 48
    form = values(open_hours=hours("2.5"), flow={"campaign_field_flow": chosen("feedback")})
    spec, _ = read_form(form, numbers=NUMBERS, segments=(), now=NOW)
    assert spec is not None
    assert spec.feedback is not None
    assert spec.feedback.open_hours == 2.5
    for wrong in ("0", "-3", "many", "100000"):
        spec, errors = read_form(
            values(open_hours=hours(wrong)), numbers=NUMBERS, segments=(), now=NOW
        )
        assert (spec, set(errors)) == (None, {"open_hours"}), wrong


@pytest.mark.parametrize("flow", ["poll", "feedback", "opt_in"])
def test_a_window_that_is_no_time_or_months_is_refused_naming_its_key(flow: str) -> None:
    spec, _ = read_form(
        values(flow={"campaign_field_flow": chosen(flow)}), numbers=NUMBERS, segments=(), now=NOW
    )
    assert spec is not None
    answers = getattr(spec, flow)
    for wrong in (0, MAX_OPEN_HOURS + 1):
        bad = spec.model_copy(update={flow: answers.model_copy(update={"open_hours": wrong})})
        with pytest.raises(CampaignError) as refused:
            check(bad, known_placeholders(()), now=NOW, routing=RoutingSection())
        assert f"{flow}.open_hours" in str(refused.value)
        assert error_field(refused.value) == "open_hours"


def test_the_modal_offers_the_numbers_and_segments_and_shows_the_preview() -> None:
    view = campaign_modal(numbers=NUMBERS, segments=("lapsed",), preview="*42 recipients*")
    blocks = {block.get("block_id"): block for block in view["blocks"]}
    assert {"name", "kind", "from", "segment", "tags", "text", "flow", "options", "when"} <= set(
        blocks
    )
    assert blocks["open_hours"]["element"]["type"] == "number_input"
    options = [o["value"] for o in blocks["from"]["element"]["options"]]
    assert options == list(NUMBERS)
    assert blocks["text"]["dispatch_action"] is True
    assert "*42 recipients*" in str(blocks["preview"])
    assert len(view["blocks"]) <= 100
