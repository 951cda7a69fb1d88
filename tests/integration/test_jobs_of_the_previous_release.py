"""Jobs a database kept from the previous release (ready Slack text in their payload,
no event) still run after the upgrade, and show what they showed then."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import BusinessConfig
from bridge.models import DeliveryStatus, JobKind, NewJob, utcnow
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.store.base import Store
from bridge.store.sqlite import SQLiteStore
from tests.support import (
    AGENT,
    BUSINESS,
    INBOX,
    BridgeUnderTest,
    agent_replies,
    eventually,
    eventually_async,
    open_thread,
)

ANA = "+14155550123"
BEN = "U0BEN"


@pytest.fixture
def business_config() -> BusinessConfig:
    return BusinessConfig.model_validate({"slack": {"undo_seconds": 0}})  # replies go at once


@pytest.fixture
def bridge_store(db_path: Path) -> Store:
    return SQLiteStore(db_path)


@pytest.fixture(autouse=True)
def team(slack: SlackEmulator) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.add_user(BEN, "ben", "Ben Ode", display_name="Ben")
    slack.join(INBOX, AGENT)
    slack.join(INBOX, BEN)


async def _conversation(bridge: BridgeUnderTest, slack: SlackEmulator, store: Store) -> int:
    await open_thread(bridge, slack, ANA)
    conversation = await store.find_conversation(BUSINESS, ANA)
    assert conversation is not None
    return conversation.id


async def _recorded(store: Store, sid: str) -> bool:
    return await store.get_message_by_sid(sid) is not None


def _thread_texts(slack: SlackEmulator) -> list[str]:
    [parent] = slack.messages(INBOX)
    return [m.text for m in slack.replies(INBOX, parent.ts)]


@pytest.mark.parametrize("kind", [JobKind.THREAD_NOTE, JobKind.CHANNEL_NOTE])
async def test_an_old_note_job_posts_its_ready_text(
    bridge: BridgeUnderTest, slack: SlackEmulator, bridge_store: Store, kind: JobKind
) -> None:
    cid = await _conversation(bridge, slack, bridge_store)
    old = NewJob(
        key="note:0ld",
        kind=kind,
        lane=f"conversation:{cid}",
        conversation_id=cid,
        note=f"Resolved by <@{AGENT}>",
    )
    await bridge_store.enqueue(old, run_at=utcnow())
    await eventually(lambda: f"Resolved by <@{AGENT}>" in _thread_texts(slack))


async def test_an_old_agent_note_shows_its_ready_text(
    bridge: BridgeUnderTest, slack: SlackEmulator, bridge_store: Store
) -> None:
    cid = await _conversation(bridge, slack, bridge_store)
    text = "That reply was already sent as a text. Edits in Slack are not re-sent; send a new one."
    old = NewJob(
        key="tell:0ld", kind=JobKind.TELL_AGENT, lane="tell:0ld", conversation_id=cid,
        user=AGENT, note=text,
    )  # fmt: skip
    await bridge_store.enqueue(old, run_at=utcnow())
    await eventually(lambda: any(e.text == text and e.user == AGENT for e in slack.ephemerals))


async def test_an_old_direct_message_is_sent_as_it_was_written(
    bridge: BridgeUnderTest, slack: SlackEmulator, bridge_store: Store
) -> None:
    cid = await _conversation(bridge, slack, bridge_store)
    text = f"<@{BEN}> assigned you the SMS conversation #{cid} with +1 415-555-0123."
    old = NewJob(
        key="dm:0ld", kind=JobKind.DIRECT_MESSAGE, lane=f"dm:{AGENT}", conversation_id=cid,
        user=AGENT, note=text,
    )  # fmt: skip
    await bridge_store.enqueue(old, run_at=utcnow())
    await eventually(lambda: any(m.text.startswith(text) for m in slack.messages(AGENT)))
    [dm] = slack.messages(AGENT)
    assert "|Open the thread>" in dm.text


async def test_an_old_dead_job_report_tells_the_inbox(
    bridge: BridgeUnderTest, slack: SlackEmulator, bridge_store: Store
) -> None:
    old = NewJob(key="dead:header:7", kind=JobKind.REPORT_DEAD, lane="reports", note="boom <&>")
    await bridge_store.enqueue(old, run_at=utcnow())
    said = ":warning: The bridge gave up on a task (boom &lt;&amp;&gt;)."
    await eventually(lambda: any(m.text == said for m in slack.messages(INBOX)))


async def test_an_old_delivery_mark_of_a_failed_reply_says_why_in_words(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, bridge_store: Store
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    await agent_replies(bridge, slack, thread, "on its way")
    await eventually(lambda: len(twilio.sent) == 1)
    sid = twilio.sent[0].sid
    await eventually_async(lambda: _recorded(bridge_store, sid))
    # The callback's write, without the job this release enqueues with it.
    failed = await bridge_store.update_delivery(sid, DeliveryStatus.UNDELIVERED, 30003)
    assert failed is not None
    old = NewJob(
        key="mark:0ld", kind=JobKind.MARK_DELIVERY, lane=f"conversation:{failed.conversation_id}",
        conversation_id=failed.conversation_id, message_id=failed.id,
    )  # fmt: skip
    await bridge_store.enqueue(old, run_at=utcnow())
    said = (
        ":warning: Not delivered to +1 415-555-0123: "
        "unreachable handset (switched off or out of coverage) (30003)."
    )
    await eventually(lambda: said in _thread_texts(slack))
