"""Clicks, dialogs and shortcuts carrying anything at all in the places the listeners
read (values, private_metadata, containers, states), signed as Slack signs them and
sent as a member of the inbox would: never a 5xx, nothing stored, nothing posted or
texted. Objects are looked up by what a payload names; an empty inbox has none."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from tests.support import AGENT, INBOX, BridgeUnderTest

ACTIONS = [
    "header_assign_me",
    "header_resolve",
    "header_reopen",
    "header_flag",
    "header_unflag",
    "draft_send",
    "draft_edit",
    "draft_discard",
    "held_edit",
    "held_cancel",
    "sms_pick_1",
    "home_filter",
    "canned_pick",
]
DIALOGS = ["sms_actions_modal", "draft_edit_modal", "held_edit_modal"]
# What Slack may not send, but a forger could: the effects must not care.
WRITES = {"chat.postMessage", "chat.update", "chat.postEphemeral", "reactions.add"}

PROPERTY = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
numbers = st.integers(min_value=-(10**30), max_value=10**30).map(str)
anything = st.recursive(
    st.none() | st.booleans() | st.integers() | text | numbers,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=10,
)
values = st.one_of(text, numbers, anything.map(json.dumps))
places = st.fixed_dictionaries(
    {},
    optional={
        "channel_id": st.one_of(st.just(INBOX), text),
        "message_ts": st.one_of(text, st.just("1700000000.000100")),
        "thread_ts": text,
        "is_ephemeral": st.booleans(),
    },
)


def stored_rows(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        names = [
            n for (n,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return sum(connection.execute(f"SELECT count(*) FROM {n}").fetchone()[0] for n in names)  # noqa: S608


def effects(slack: SlackEmulator, twilio: TwilioEmulator) -> int:
    return len([c for c in slack.calls if c.method in WRITES]) + len(twilio.sent)


async def deliver(
    bridge: BridgeUnderTest, slack: SlackEmulator, payload: dict[str, Any], caplog: Any
) -> int:
    """The answer's status; a listener that failed (after acknowledging, so the status
    cannot say) fails the test by its logged error."""
    caplog.clear()
    answer = await slack.deliver(f"{bridge.url}/slack/events", payload, kind="interactive")
    failed = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not failed, failed
    return answer.status


def member(slack: SlackEmulator) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz")
    slack.join(INBOX, AGENT)  # a member: the payloads, not the person, are the question


@PROPERTY
@example(action_id="header_resolve", value="9" * 30, container={}, trigger=True, option=None)
@example(action_id="home_filter", value="", container={}, trigger=False, option=True)
@example(action_id="held_edit", value="x", container={}, trigger=False, option=None)
@given(
    action_id=st.sampled_from(ACTIONS),
    value=values,
    container=places,
    trigger=st.booleans(),
    option=st.one_of(st.none(), anything),
)
async def test_a_members_click_carrying_anything_changes_nothing(
    bridge: BridgeUnderTest,
    slack: SlackEmulator,
    twilio: TwilioEmulator,
    db_path: Path,
    caplog: pytest.LogCaptureFixture,
    action_id: str,
    value: str,
    container: dict[str, Any],
    trigger: bool,
    option: object,
) -> None:
    member(slack)
    before = stored_rows(db_path), effects(slack, twilio)
    action: dict[str, Any] = {"type": "button", "action_id": action_id, "value": value}
    if option is not None:
        action["selected_option"] = option
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": slack.team_id},
        "user": {"id": AGENT, "team_id": slack.team_id},
        "container": {"type": "message", **container},
        "channel": {"id": INBOX},
        "response_url": slack.response_url(),
        "actions": [action],
    }
    if trigger:
        payload["trigger_id"] = slack.trigger(AGENT)
    assert await deliver(bridge, slack, payload, caplog) in (200, 400)
    assert (stored_rows(db_path), effects(slack, twilio)) == before


@PROPERTY
@given(callback=st.sampled_from(DIALOGS), metadata=values, state=anything)
async def test_a_members_dialog_carrying_anything_changes_nothing(
    bridge: BridgeUnderTest,
    slack: SlackEmulator,
    twilio: TwilioEmulator,
    db_path: Path,
    caplog: pytest.LogCaptureFixture,
    callback: str,
    metadata: str,
    state: object,
) -> None:
    member(slack)
    before = stored_rows(db_path), effects(slack, twilio)
    payload = {
        "type": "view_submission",
        "team": {"id": slack.team_id},
        "user": {"id": AGENT, "team_id": slack.team_id},
        "trigger_id": slack.trigger(AGENT),
        "view": {
            "type": "modal",
            "id": "V0ANY",
            "callback_id": callback,
            "private_metadata": metadata,
            "state": {"values": state},
        },
    }
    assert await deliver(bridge, slack, payload, caplog) in (200, 400)
    assert (stored_rows(db_path), effects(slack, twilio)) == before


@PROPERTY
@given(channel=st.one_of(st.just(INBOX), text), message=anything, trigger=st.booleans())
async def test_a_members_shortcut_on_anything_changes_nothing(
    bridge: BridgeUnderTest,
    slack: SlackEmulator,
    twilio: TwilioEmulator,
    db_path: Path,
    caplog: pytest.LogCaptureFixture,
    channel: str,
    message: object,
    trigger: bool,
) -> None:
    member(slack)
    before = stored_rows(db_path), effects(slack, twilio)
    payload: dict[str, Any] = {
        "type": "message_action",
        "callback_id": "sms_actions",
        "team": {"id": slack.team_id},
        "user": {"id": AGENT, "team_id": slack.team_id},
        "channel": {"id": channel},
        "message": message,
        "response_url": slack.response_url(),
    }
    if trigger:
        payload["trigger_id"] = slack.trigger(AGENT)
    assert await deliver(bridge, slack, payload, caplog) in (200, 400)
    assert (stored_rows(db_path), effects(slack, twilio)) == before
