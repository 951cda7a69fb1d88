"""An upgrade from the release before channels: the bridge opens that release's
database, its conversations keep their Slack threads and their consent, and the same
number on WhatsApp gets a thread of its own."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bridge.config import BusinessConfig
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from tests.contract.test_release_migration import ANA, BO, RELEASE_DB, THREAD_1, THREAD_2
from tests.support import (
    AGENT,
    INBOX,
    BridgeUnderTest,
    agent_replies,
    ephemerals,
    eventually,
    whatsapp_parents,
)


@pytest.fixture
def business_config() -> BusinessConfig:
    return BusinessConfig.model_validate({"slack": {"undo_seconds": 0}})


@pytest.fixture
def db_path(tmp_path: Path, slack: SlackEmulator) -> Path:
    """The previous release's database, its two threads living in this Slack."""
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.join(INBOX, AGENT)
    threads = {
        old: slack.user_posts(INBOX, slack.bot_user_id, f"SMS conversation #{n}")["ts"]
        for n, old in enumerate((THREAD_1, THREAD_2), start=1)
    }
    path = tmp_path / "bridge.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(RELEASE_DB.read_text())
    for old, new in threads.items():
        db.execute(
            "UPDATE conversations SET slack_thread_ts = ? WHERE slack_thread_ts = ?", (new, old)
        )
    db.close()
    return path


async def test_conversations_of_the_previous_release_keep_their_threads_and_consent(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    ana_thread, bo_thread = (m.ts for m in slack.messages(INBOX))
    assert (await bridge.text(ANA, "Still open?")).status == 200
    await eventually(lambda: "Still open?" in [m.text for m in slack.replies(INBOX, ana_thread)])

    assert (await bridge.whatsapp(ANA, "And on WhatsApp?")).status == 200
    await eventually(lambda: len(whatsapp_parents(slack)) == 1)
    [whatsapp_thread] = whatsapp_parents(slack)
    await eventually(lambda: len(slack.replies(INBOX, whatsapp_thread)) == 1)
    assert "And on WhatsApp?" not in [m.text for m in slack.replies(INBOX, ana_thread)]

    await agent_replies(bridge, slack, bo_thread, "Are you still there?")
    await eventually(lambda: any("opted out" in text for text in ephemerals(slack)))
    await agent_replies(bridge, slack, ana_thread, "Until 6")
    await eventually(lambda: len(twilio.sent) == 1)
    await bridge.idle()
    assert [(m.to, m.body) for m in twilio.sent] == [(ANA, "Until 6")]
    assert BO not in {m.to for m in twilio.sent}
