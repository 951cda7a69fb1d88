"""`/sms kb` names the knowledge files as the operator wrote them in the business
config (relative to its folder), never the server's absolute paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import BusinessConfig, load_business_config
from bridge.sandbox.slack_emulator import SlackEmulator
from tests.support import AGENT, INBOX, BridgeUnderTest, slash


@pytest.fixture
def business_config(tmp_path: Path) -> BusinessConfig:
    kb = tmp_path / "config" / "kb"
    kb.mkdir(parents=True)
    (kb / "faq.yml").write_text("- q: Do you have parking?\n  a: Yes, behind the shop.\n")
    config = tmp_path / "config" / "business.yml"
    config.write_text("knowledge:\n  path: kb\n")
    return load_business_config(config)


@pytest.fixture(autouse=True)
def team(slack: SlackEmulator) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz")
    slack.join(INBOX, AGENT)


async def test_kb_status_and_errors_name_files_relative_to_the_config(
    bridge: BridgeUnderTest, slack: SlackEmulator, tmp_path: Path
) -> None:
    status = await slash(bridge, slack, "kb")
    assert status.text.endswith(" entries from kb.")
    assert str(tmp_path) not in status.text

    (tmp_path / "config" / "kb" / "faq.yml").write_text("- q: broken\n  a: [unclosed\n")
    refused = await slash(bridge, slack, "kb reload")
    assert "kb/faq.yml:3" in refused.text
    assert str(tmp_path) not in refused.text
