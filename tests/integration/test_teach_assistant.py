"""Learning from the team, end to end (real Slack/Twilio SDK clients against the
emulators): a text the assistant handed off, an agent's answer, *Teach the assistant*,
an admin's approval in App Home; the same question from another number then gets the
agent's answer as a draft, and learned.yml holds it. Who may teach and approve is the
inbox's one rule, plus `slack.admins` for approvals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.config import BusinessConfig, load_business_config
from bridge.sandbox.slack_emulator import SlackEmulator, SlackMessage
from tests.support import (
    AGENT,
    INBOX,
    BridgeUnderTest,
    agent_replies,
    eventually,
    eventually_async,
    parents,
    slash,
)

ANA = "+14155550123"
BEN = "+14155550124"
BOSS = "U0BOSS"
OUTSIDER = "U0OLLY"
QUESTION = "do you do gift wrapping?"
ANSWER = "Yes! We gift wrap for free at the counter."
FAQ = (
    "- q: Do you deliver?\n  a: We deliver within 5 miles for $5.\n"
    "- q: Can I pay by card?\n  a: Yes, all major cards and Apple Pay.\n"
)


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    folder = tmp_path / "config" / "kb"
    folder.mkdir(parents=True)
    (folder / "faq.yml").write_text(FAQ, encoding="utf-8")
    return folder


@pytest.fixture
def business_config(kb: Path) -> BusinessConfig:
    config = kb.parent / "business.yml"
    config.write_text(
        "business: {name: Harbor Street Bakery}\n"
        "knowledge: {path: kb}\n"
        "ai: {draft_wait_seconds: 10}\n"
        f"slack: {{admins: [{BOSS}]}}\n",
        encoding="utf-8",
    )
    return load_business_config(config)


@pytest.fixture(autouse=True)
def team(slack: SlackEmulator) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz")
    slack.add_user(BOSS, "bo", "Bo Boss")
    slack.add_user(OUTSIDER, "olly", "Olly Out")
    slack.join(INBOX, AGENT, BOSS)


def blocks_text(blocks: Any) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def thread_of(slack: SlackEmulator, phone_tail: str) -> tuple[str, list[SlackMessage]]:
    parent = next(m for m in parents(slack) if phone_tail in m.text)
    return parent.ts, slack.replies(INBOX, parent.ts)


def has_block(message: SlackMessage, prefix: str) -> bool:
    return any(str(b.get("block_id", "")).startswith(prefix) for b in message.blocks or [])


async def drafted(
    bridge: BridgeUnderTest, slack: SlackEmulator, phone: str, body: str
) -> tuple[str, SlackMessage]:
    """The subscriber texts; the thread and the message that holds the text's draft."""
    await bridge.text(phone, body)
    tail = phone[-4:]

    def card() -> SlackMessage | None:
        if not any(tail in m.text for m in parents(slack)):
            return None
        _, messages = thread_of(slack, tail)
        return next((m for m in messages if has_block(m, "draft_")), None)

    await eventually(lambda: card() is not None)
    found = card()
    assert found is not None
    return thread_of(slack, tail)[0], found


def teach_offers(slack: SlackEmulator, user: str) -> list[Any]:
    return [e for e in slack.ephemerals if e.user == user and "teach_open" in blocks_text(e.blocks)]


async def deliver(bridge: BridgeUnderTest, slack: SlackEmulator, payload: Any) -> None:
    response = await slack.deliver(f"{bridge.url}/slack/events", payload, kind="interactive")
    assert response.status == 200


def home_button(slack: SlackEmulator, user: str, action_id: str) -> dict[str, Any] | None:
    view = slack.home_views.get(user) or {}
    for block in view.get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action_id:
                return dict(element)
    return None


def home_click(slack: SlackEmulator, user: str, action_id: str, value: str) -> dict[str, Any]:
    payload = slack.block_action(user, action_id, value, channel=INBOX)
    payload["container"] = {"type": "view", "view_id": "V1"}
    payload.pop("channel")
    payload["view"] = slack.home_views.get(user) or {}
    return payload


async def open_home(bridge: BridgeUnderTest, slack: SlackEmulator, user: str) -> None:
    opened = {"type": "app_home_opened", "user": user, "tab": "home", "event_ts": "1.0"}
    await slack.deliver(f"{bridge.url}/slack/events", opened)
    await eventually(lambda: user in slack.home_views)


def kind_choice(value: str) -> dict[str, Any]:
    return {"type": "radio_buttons", "selected_option": {"value": value}}


async def test_a_taught_answer_drafts_the_same_question_from_another_number(
    bridge: BridgeUnderTest, slack: SlackEmulator, kb: Path
) -> None:
    thread_ts, card = await drafted(bridge, slack, ANA, QUESTION)
    assert has_block(card, "draft_handoff")

    await agent_replies(bridge, slack, thread_ts, ANSWER)
    await eventually(lambda: bool(teach_offers(slack, AGENT)))
    [offer] = teach_offers(slack, AGENT)
    assert offer.thread_ts == thread_ts
    button = next(
        element
        for block in offer.blocks
        if block.get("type") == "actions"
        for element in block["elements"]
        if element["action_id"] == "teach_open"
    )

    # Someone who is not a member of the inbox cannot teach: told, no dialog.
    slack.ephemerals.append(offer)  # (Slack would show them nothing; they forge a click)
    await deliver(
        bridge,
        slack,
        slack.block_action(
            OUTSIDER, "teach_open", button["value"], channel=INBOX, message_ts=offer.ts
        ),
    )
    await eventually(lambda: any("members" in str(r.get("text")) for r in slack.responses))
    assert OUTSIDER not in slack.modals

    await deliver(
        bridge,
        slack,
        slack.block_action(
            AGENT, "teach_open", button["value"], channel=INBOX, message_ts=offer.ts
        ),
    )
    await eventually(lambda: AGENT in slack.modals)
    modal = slack.modals[AGENT]
    shown = blocks_text(modal["blocks"])
    assert QUESTION in shown  # the customer's wording, to edit
    assert ANSWER in shown  # the agent's answer, to edit
    await deliver(
        bridge,
        slack,
        slack.view_submission(
            AGENT,
            {
                "teach_kind": {"kind": kind_choice("new")},
                "teach_question": {"question": QUESTION},
                "teach_answer": {"answer": ANSWER},
            },
        ),
    )

    # An agent who is no admin sees no approval, and a forged one is refused.
    await open_home(bridge, slack, AGENT)
    await open_home(bridge, slack, BOSS)
    await eventually(lambda: home_button(slack, BOSS, "lesson_approve") is not None)
    approve = home_button(slack, BOSS, "lesson_approve")
    assert approve is not None
    assert home_button(slack, AGENT, "lesson_approve") is None
    refusals = len(slack.ephemerals)
    await deliver(bridge, slack, home_click(slack, AGENT, "lesson_approve", approve["value"]))
    await eventually(lambda: len(slack.ephemerals) > refusals)
    assert "admin" in slack.ephemerals[-1].text.lower()
    assert slack.ephemerals[-1].user == AGENT
    assert not (kb / "learned.yml").exists()

    await deliver(bridge, slack, home_click(slack, BOSS, "lesson_approve", approve["value"]))
    await eventually(lambda: (kb / "learned.yml").exists())
    learned = yaml.safe_load((kb / "learned.yml").read_text(encoding="utf-8"))
    assert [(item["q"], item["a"]) for item in learned] == [(QUESTION, ANSWER)]
    await eventually(lambda: home_button(slack, BOSS, "lesson_approve") is None)

    _, card = await drafted(bridge, slack, BEN, QUESTION)
    assert has_block(card, "draft_reply")
    assert ANSWER in blocks_text(card.blocks)


async def test_kb_corrections_lists_the_entries_agents_correct_most(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    _, card = await drafted(bridge, slack, ANA, "do you deliver?")
    assert has_block(card, "draft_reply")
    message_id = next(
        str(b["block_id"]).split(":", 1)[1]
        for b in card.blocks or []
        if str(b.get("block_id", "")).startswith("draft_")
    )
    await deliver(
        bridge,
        slack,
        slack.block_action(AGENT, "draft_discard", message_id, channel=INBOX, message_ts=card.ts),
    )

    async def listed() -> bool:
        answer = await slash(bridge, slack, "kb corrections")
        return "Do you deliver?" in answer.text and "1 discarded" in answer.text

    await eventually_async(listed)
