"""The `/sms` picker: the conversations a command could mean, each with a button that
runs the command on that one."""

from __future__ import annotations

import re
from typing import Any

from bridge.phones import display
from bridge.slack.blocks.header_card import channel_label
from bridge.slack.blocks.mrkdwn import slack_time
from bridge.slack.blocks.wording import answer_text
from bridge.text import clip
from bridge.threading.commands.answers import Reply
from bridge.threading.commands.grammar import Command, Target

PICK_ACTION = "sms_pick"
# The picker's buttons: Bolt matches a plain string exactly, so the ids need a pattern.
PICKED = re.compile(rf"^{PICK_ACTION}_\d+$")


def picker_blocks(reply: Reply, command: Command) -> list[dict[str, Any]]:
    """The conversations to choose from; each button runs the command on one."""
    buttons = [
        {
            "type": "button",
            "action_id": f"{PICK_ACTION}_{c.id}",
            "text": {
                "type": "plain_text",
                "text": f"#{c.id} {channel_label(c)}{display(c.subscriber)}"[:75],
            },
            "value": command.model_copy(update={"target": Target(number=c.id)}).model_dump_json(),
        }
        for c in reply.picker
    ]
    lines = [
        f"*#{c.id}* {channel_label(c)}{display(c.subscriber)} · last activity"
        f" {slack_time(c.last_activity_at)}"
        for c in reply.picker
    ]
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": clip(answer_text(reply.answer), 3000)},
        },
    ]
    if buttons:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": clip("\n".join(lines), 2000)}],
            }
        )
        blocks.append({"type": "actions", "block_id": "sms_picker", "elements": buttons})
    return blocks
