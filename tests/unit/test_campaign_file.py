"""The campaign file: INTERFACES.md's keys as a CampaignSpec; a file that is not one is
refused with one line naming the problem."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bridge.campaigns.errors import CampaignError
from bridge.campaigns.models import CampaignKind
from bridge.campaigns.spec_file import read_spec

EXAMPLE = """
name: flavor-poll
kind: marketing
from: "+15005550006"
to: {tags: [Regulars], numbers: ["(415) 555-0101"], segment: vip}
text: "Which new flavor should we add? Reply A for Mango, B for Strawberry, C for Vanilla."
poll: {options: {A: Mango, B: Strawberry, C: Vanilla}, open_hours: 24}
send_at: 2026-03-02T10:00:00-08:00
"""


def test_the_interfaces_example_is_a_campaign() -> None:
    spec = read_spec(EXAMPLE, default_from=None)

    assert spec.name == "flavor-poll"
    assert spec.kind is CampaignKind.MARKETING
    assert spec.from_number == "+15005550006"
    assert spec.to.tags == ("regulars",)
    assert spec.to.numbers == ("+14155550101",)
    assert spec.to.segment == "vip"
    assert spec.poll is not None
    assert list(spec.poll.options) == ["A", "B", "C"]
    assert spec.poll.open_hours == 24
    assert spec.send_at == datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


def test_from_defaults_to_the_senders_number() -> None:
    spec = read_spec("name: n\nto: {tags: [a]}\ntext: hi\n", default_from="+15005550006")
    assert spec.from_number == "+15005550006"
    assert spec.kind is CampaignKind.MARKETING


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("name: [unclosed\n", "not valid YAML at line"),
        ("- a list\n", "a mapping"),
        ("name: n\nto: {tags: [a]}\ntext: hi\ncolour: red\n", "colour: not a campaign key"),
        ("name: n\nto: {tags: [a]}\ntext: hi\npoll: {options: {A: x, A: y}}\n", "A is given"),
        ("name: n\nto: {tags: [a]}\ntext: hi\nsend_at: 2026-03-02T10:00:00\n", "time zone"),
        ("name: n\nto: {tags: [a]}\ntext: hi\nsend_at: tomorrow\n", "send_at"),
        ("name: n\nto: {numbers: [call-me]}\ntext: hi\n", "to.numbers"),
        ("name: n\nto: {tags: [a]}\ntext: hi\nkind: spam\n", "kind"),
        ("name: n\nto: {tags: [a], colour: red}\ntext: hi\n", "to.colour"),
        ("name: n\nto: {tags: [a]}\n", "text"),
    ],
)
def test_a_file_that_is_no_campaign_is_refused_with_one_line(text: str, names: str) -> None:
    with pytest.raises(CampaignError) as refused:
        read_spec(text, default_from="+15005550006")
    assert names in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_file_without_a_business_number_names_the_setting() -> None:
    with pytest.raises(CampaignError, match="TWILIO_FROM_NUMBER"):
        read_spec("name: n\nto: {tags: [a]}\ntext: hi\n", default_from=None)
