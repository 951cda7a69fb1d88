"""What the bridge tells agents in Slack reads as plain English: counted nouns agree,
no encoding jargon, and times render in each reader's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bridge.compliance.guard import refusal
from bridge.events import SlaBreached
from bridge.models import (
    ConsentState,
    Conversation,
    Direction,
    Media,
    Message,
    MessagePurpose,
)
from bridge.slack.blocks.mrkdwn import counted, field_error
from bridge.slack.blocks.wording import event_text, problem_text
from bridge.slack.jobs.inbound_posts import inbound_text
from bridge.threading.outbound import reply_cost

WHEN = datetime(2026, 3, 2, 17, 5, tzinfo=UTC)
PHOTO = Media(url="https://api.twilio.com/media/1", content_type="image/jpeg")


def _opted_out_note() -> str:
    conversation = Conversation(
        id=1,
        business_number="+14155550100",
        subscriber="+14155550142",
        created_at=WHEN,
        last_activity_at=WHEN,
    )
    refused = refusal(
        conversation,
        ConsentState(conversational=False, revoked_at=WHEN),
        MessagePurpose.REPLY,
    )
    assert refused is not None
    return problem_text(refused)


def cost_note(body: str) -> str | None:
    price = reply_cost(1, "U0ANA", body)
    return None if price is None else event_text(price)


def _mms(count: int) -> Message:
    return Message(
        id="in-1",
        conversation_id=1,
        direction=Direction.INBOUND,
        body="",
        media=(PHOTO,) * count,
        created_at=WHEN,
    )


@pytest.mark.parametrize(
    ("count", "shown"), [(1, ":paperclip: 1 attachment"), (2, ":paperclip: 2 attachments")]
)
def test_a_text_of_only_pictures_counts_them_in_good_english(count: int, shown: str) -> None:
    assert inbound_text(_mms(count)) == shown


def test_the_segment_note_says_what_a_special_character_does_in_plain_words() -> None:
    note = cost_note("Your cake is ready 🎂 " + "see you soon " * 6)
    assert note is not None
    assert "UCS" not in note
    assert "🎂" in note
    assert "70 characters instead of 160" in note


def test_a_long_plain_text_note_only_counts_segments() -> None:
    note = cost_note("a" * 200)
    assert note == "This reply goes out as 2 SMS segments (200 characters)."


def test_the_opt_out_note_gives_its_time_in_the_readers_time_zone() -> None:
    note = _opted_out_note()
    # Slack's date token: each reader's client shows it in their own zone.
    assert f"<!date^{int(WHEN.timestamp())}^" in note


def test_a_dialog_shows_the_opt_out_time_as_plain_text() -> None:
    note = _opted_out_note()
    shown = field_error(note)
    assert "<" not in shown
    assert "(2026-03-02 17:05 UTC)" in shown


@pytest.mark.parametrize(("count", "shown"), [(0, "0 entries"), (1, "1 entry"), (2, "2 entries")])
def test_knowledge_entries_are_counted_in_english(count: int, shown: str) -> None:
    assert counted(count, "entry", "entries") == shown


@pytest.mark.parametrize(
    ("minutes", "notify", "said"),
    [
        (
            15,
            ("U0ANA", "S0ONCALL"),
            ":alarm_clock: No reply for 15 business minutes — <@U0ANA> <!subteam^S0ONCALL>",
        ),
        (1, ("W0BOSS",), ":alarm_clock: No reply for 1 business minute — <@W0BOSS>"),
        (30, (), ":alarm_clock: No reply for 30 business minutes."),
    ],
)
def test_an_sla_escalation_mentions_people_and_user_groups(
    minutes: int, notify: tuple[str, ...], said: str
) -> None:
    breach = SlaBreached(
        conversation_id=1, message_id="m1", since=WHEN, deadline=WHEN, minutes=minutes,
        notify=notify,
    )  # fmt: skip
    assert event_text(breach) == said
