"""The assistant's rules that need no engine: when it may answer by itself, the daily
token budget, opening hours, and the `ai` and `knowledge` config sections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest

from bridge.ai.auto_reply import hold_reason
from bridge.ai.budget import TokenBudget, billed_tokens
from bridge.ai.drafter import Draft, TokenUsage
from bridge.config import AutoReply, Business, ConfigError, load_business_config
from bridge.models import ASSISTANT, DeliveryStatus, Direction, KeywordMark, Message
from bridge.store.base import Store
from bridge.threading.opening_hours import opening

# Friday 2026-11-27 20:00 UTC = 12:00 in Los Angeles.
NOON_LA = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
BAKERY = Business(
    timezone="America/Los_Angeles",
    hours={"mon-fri": "07:00-18:00", "sat": "08:00-14:00"},
    holidays=["2026-12-25"],
)
ON = AutoReply(enabled=True, min_confidence=0.8, only_outside_hours=True)
SURE = Draft(reply="We open at 7.", confidence=0.9)


TEXT = Message(
    id="in-1",
    conversation_id=1,
    direction=Direction.INBOUND,
    body="when do you open?",
    created_at=NOON_LA,
)


def reply_by(author: str | None, ago: timedelta, body: str = "hi") -> Message:
    return Message(
        id=f"m-{author}",
        conversation_id=1,
        direction=Direction.OUTBOUND,
        body=body,
        created_at=NOON_LA - ago,
        status=DeliveryStatus.SENT,
        author=author,
    )


def test_opening_hours_follow_the_zone_days_and_holidays() -> None:
    assert opening(BAKERY, None, NOON_LA).open
    assert not opening(BAKERY, None, NOON_LA + timedelta(hours=6)).open  # 18:00 in LA: closed
    assert not opening(BAKERY, None, NOON_LA + timedelta(days=2)).open  # Sunday
    assert opening(BAKERY, None, NOON_LA + timedelta(hours=23)).open  # Sat 11:00
    assert not opening(BAKERY, None, datetime(2026, 12, 25, 20, tzinfo=UTC)).open  # a holiday
    assert not opening(Business(), None, NOON_LA).open  # no hours: always closed
    assert opening(
        Business(hours={"fri-mon": "00:00-23:59"}), None, NOON_LA
    ).open  # a wrapping range


@pytest.mark.parametrize(
    ("policy", "draft", "at", "reason"),
    [
        (ON, SURE, NOON_LA + timedelta(hours=8), None),
        (AutoReply(), SURE, NOON_LA + timedelta(hours=8), "auto-reply is off"),
        (ON, SURE, NOON_LA, "the business is open"),
        (ON.model_copy(update={"only_outside_hours": False}), SURE, NOON_LA, None),
        (ON, Draft(reply="Maybe?", confidence=0.79), NOON_LA + timedelta(hours=8), "below 80%"),
        # Rounded down: 79.9 % is not shown as "80% is below 80%".
        (ON, Draft(reply="Maybe?", confidence=0.799), NOON_LA + timedelta(hours=8), "79% is"),
        (ON, Draft.handoff("refund", confidence=1), NOON_LA + timedelta(hours=8), "asks for a"),
        (
            ON,
            Draft(reply="Yes", confidence=1, escalate=True, reason="check"),
            NOON_LA + timedelta(hours=8),
            "asks for a person",
        ),
        (ON, Draft(reason="a thanks"), NOON_LA + timedelta(hours=8), "nothing to send"),
    ],
)
def test_when_the_assistant_may_answer(
    policy: AutoReply, draft: Draft, at: datetime, reason: str | None
) -> None:
    held = hold_reason(
        policy, draft, message=TEXT, open_now=opening(BAKERY, None, at).open, now=at, recent=[TEXT]
    )
    if reason is None:
        assert held is None
    else:
        assert held is not None
        assert reason in held


def test_a_person_answering_pauses_the_assistant() -> None:
    evening = NOON_LA + timedelta(hours=8)

    def held(*recent: Message) -> str | None:
        return hold_reason(ON, SURE, message=TEXT, open_now=False, now=evening, recent=recent)

    assert "a person is answering" in str(held(reply_by("U1", timedelta(minutes=10 - 480))))
    assert held(reply_by("U1", timedelta(minutes=31 - 480))) is None
    # Its own earlier answers do not pause it, unless it would say the same again.
    assert held(reply_by(ASSISTANT, timedelta(minutes=5 - 480))) is None
    same = reply_by(ASSISTANT, timedelta(minutes=5 - 480), body=SURE.reply or "")
    assert "sent this answer a moment ago" in str(held(same))


def test_texts_a_person_must_read_are_never_answered_by_the_assistant() -> None:
    evening = NOON_LA + timedelta(hours=8)
    wary = TEXT.model_copy(update={"keyword": KeywordMark.MAYBE_OPT_OUT})
    assert "stop texting" in str(
        hold_reason(ON, SURE, message=wary, open_now=False, now=evening, recent=[])
    )
    urgent = SURE.model_copy(update={"urgency": "urgent"})
    assert "urgent" in str(
        hold_reason(ON, urgent, message=TEXT, open_now=False, now=evening, recent=[])
    )
    newer = TEXT.model_copy(update={"id": "in-2", "created_at": NOON_LA + timedelta(seconds=5)})
    assert "a newer text follows" in str(
        hold_reason(ON, SURE, message=TEXT, open_now=False, now=evening, recent=[TEXT, newer])
    )


class Counters:
    """The store's usage counters, as every engine keeps them (see the contract tests)."""

    def __init__(self) -> None:
        self.totals: dict[str, int] = {}

    async def add_usage(self, key: str, amount: int) -> int:
        self.totals[key] = self.totals.get(key, 0) + amount
        return self.totals[key]


async def test_the_budget_counts_as_billed_and_starts_again_each_local_day() -> None:
    usage = TokenUsage(
        input_tokens=100,
        output_tokens=50,
        cache_read_input_tokens=1000,
        cache_creation_input_tokens=400,
    )
    assert billed_tokens(usage) == 100 + 50 + 100 + 500
    now = [datetime(2026, 11, 27, 7, 59, tzinfo=UTC)]  # 23:59 in Los Angeles
    seen: list[int] = []
    counters = Counters()
    budget = TokenBudget(
        cast(Store, counters),
        1500,
        "America/Los_Angeles",
        on_change=seen.append,
        clock=lambda: now[0],
    )
    budget.record(usage)
    assert budget.spent == 0  # recorded, not yet settled
    await budget.settle()
    assert (budget.spent, budget.exhausted()) == (750, False)
    counters.totals["ai_tokens:2026-11-26"] += 750  # another process spent some
    await budget.settle()
    assert budget.exhausted()
    now[0] += timedelta(minutes=2)  # midnight in Los Angeles
    assert (budget.spent, budget.exhausted()) == (0, False)
    budget.record(usage)
    await budget.settle()
    assert counters.totals == {"ai_tokens:2026-11-26": 1500, "ai_tokens:2026-11-27": 750}
    assert seen == [0, 750, 1500, 0, 750]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "business.yml"
    path.write_text(text)
    return path


def test_the_knowledge_path_is_relative_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_business_config(write(tmp_path, "knowledge: {path: kb/}\n"))
    monkeypatch.chdir("/")
    assert config.knowledge.path == tmp_path / "kb"
    absolute = load_business_config(
        write(tmp_path, "knowledge: {path: /srv/kb, allow_outside: true}\n")
    )
    assert absolute.knowledge.path == Path("/srv/kb")


def test_auto_reply_can_differ_per_business_number(tmp_path: Path) -> None:
    config = load_business_config(
        write(
            tmp_path,
            "ai:\n"
            "  auto_reply: {enabled: false}\n"
            "  numbers:\n"
            "    '(415) 555-0100': {auto_reply: {enabled: true, min_confidence: 0.9}}\n",
        )
    )
    assert config.ai.auto_reply_for("+14155550100").enabled
    assert config.ai.auto_reply_for("+14155550100").min_confidence == 0.9
    assert not config.ai.auto_reply_for("+14155550199").enabled


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ai: {tools: {order_status: {url: 'https://shop.example/orders'}}}", "{order}"),
        ("ai: {tools: {order_status: {url: 'ftp://x/{order}'}}}", "ai.tools.order_status.url"),
        ("ai: {auto_reply: {min_confidence: 2}}", "ai.auto_reply.min_confidence"),
        ("ai: {numbers: {'not a phone': {}}}", "ai.numbers"),
        ("ai: {max_reply_chars: 5000}", "ai.max_reply_chars"),
        ("ai: {modle: x}", "ai.modle: unknown key"),
    ],
)
def test_bad_ai_settings_name_their_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("{", r"\{").replace("}", r"\}")):
        load_business_config(write(tmp_path, text))
