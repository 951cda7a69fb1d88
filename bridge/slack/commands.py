"""The `/sms` slash command: parse, check who asks, run, answer ephemerally."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bridge.mrkdwn import clip, slack_time
from bridge.phones import display
from bridge.slack.members import InboxMembers
from bridge.slack.names import SlackNames
from bridge.slack.plain_text import to_plain
from bridge.threading.command_desk import CommandDesk, Reply
from bridge.threading.commands import USAGE, Command, Target, UsageError, parse

PICK_ACTION = "sms_pick"
NOT_A_MEMBER = "Only members of the SMS inbox channel can use `/sms`."


def picker_blocks(reply: Reply, command: Command) -> list[dict[str, Any]]:
    """The conversations to choose from; each button runs the command on one."""
    buttons = [
        {
            "type": "button",
            "action_id": f"{PICK_ACTION}_{c.id}",
            "text": {"type": "plain_text", "text": f"#{c.id} {display(c.subscriber)}"[:75]},
            "value": command.model_copy(update={"target": Target(number=c.id)}).model_dump_json(),
        }
        for c in reply.picker
    ]
    lines = [
        f"*#{c.id}* {display(c.subscriber)} · last activity {slack_time(c.last_activity_at)}"
        for c in reply.picker
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": clip(reply.text, 3000)}},
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


class SmsCommand:
    def __init__(self, desk: CommandDesk, members: InboxMembers, names: SlackNames) -> None:
        self._desk = desk
        self._members = members
        self._names = names

    def register(self, app: AsyncApp) -> None:
        app.command("/sms")(self.on_command)
        app.action({"action_id": f"^{PICK_ACTION}_\\d+$"})(self.on_pick)

    async def on_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        user = str(command.get("user_id", ""))
        if not await self._members.allowed(user):
            await ack(text=NOT_A_MEMBER)
            return
        try:
            parsed = parse(str(command.get("text", "")))
        except UsageError as exc:
            await ack(text=f"{exc}\n{USAGE}")
            return
        if parsed.text:  # what Slack escaped and marked up, as the phone should show it
            plain = await to_plain(parsed.text, self._names.user, self._names.channel)
            parsed = parsed.model_copy(update={"text": plain})
        reply = await self._desk.run(parsed, user)
        if reply.picker:
            await ack(text=reply.text, blocks=picker_blocks(reply, parsed))
        else:
            await ack(text=reply.text)

    async def on_pick(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        user = str(body.get("user", {}).get("id", ""))
        if not await self._members.allowed(user):
            await respond(text=NOT_A_MEMBER, replace_original=True)
            return
        command = Command.model_validate_json(str(action.get("value", "{}")))
        reply = await self._desk.run(command, user)
        await respond(text=reply.text, replace_original=True)
