"""The `/sms` slash command: parse, check who asks, run, answer ephemerally."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bridge.slack.access import NOT_A_MEMBER, InboxAccess, Interaction, slack_id
from bridge.slack.blocks.mrkdwn import escape
from bridge.slack.blocks.picker import PICKED, picker_blocks
from bridge.slack.blocks.plain_text import to_sms
from bridge.slack.blocks.wording import answer_text
from bridge.slack.listeners.campaign_dialog import CampaignDialog
from bridge.slack.names import SlackNames
from bridge.threading.command_desk import CommandDesk
from bridge.threading.commands.answers import Reply, Said
from bridge.threading.commands.conversation import ASSIGN
from bridge.threading.commands.grammar import Command, UsageError
from bridge.threading.commands.sending import SEND
from bridge.threading.commands.table import PICKABLE, USAGE, read
from bridge.threading.mentions import named

NOT_ASSIGNABLE = "<@{user}> can't be assigned: only members of the SMS inbox channel can."


def _picked(value: str) -> Command | None:
    """The command a picker button carries, if it is one a picker offers."""
    try:
        command = Command.model_validate_json(value)
    except ValidationError:
        return None
    target = command.target
    if command.action not in PICKABLE or target is None or target.number is None:
        return None
    return command


class SmsCommand:
    def __init__(
        self,
        desk: CommandDesk,
        access: InboxAccess,
        names: SlackNames,
        campaign_dialog: CampaignDialog | None = None,
    ) -> None:
        self._desk = desk
        self._access = access
        self._names = names
        self._campaign_dialog = campaign_dialog

    def register(self, app: AsyncApp) -> None:
        app.command("/sms")(self.on_command)
        app.action({"action_id": PICKED})(self.on_pick)

    async def on_command(
        self, ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient
    ) -> None:
        user = slack_id(command.get("user_id"))
        team = slack_id(command.get("team_id"))
        if user is None or not await self._access.allows(user, team=team):
            await ack(text=NOT_A_MEMBER)
            return
        try:
            parsed = read(str(command.get("text", "")))
        except UsageError as exc:
            await ack(text=escape(f"{exc}\n{USAGE}"))  # it may quote what was typed
            return
        if parsed.text:  # what Slack escaped and marked up, as the phone should show it
            plain = await to_sms(parsed.text, self._names.names_now, self._names.channel)
            if parsed.action != SEND.name:  # a reason, a canned text: named now
                plain = named(plain, {})
            parsed = parsed.model_copy(update={"text": plain})
        text, reply = await self._run(parsed, user)
        trigger = command.get("trigger_id")
        if reply is not None and reply.answer is Said.CAMPAIGN_DIALOG:
            channel = command.get("channel_id")
            if (
                self._campaign_dialog is not None
                and isinstance(trigger, str)
                and isinstance(channel, str)
            ):
                await ack()
                await self._campaign_dialog.open(client, trigger, channel=channel)
                return
            text = answer_text(Said.CAMPAIGNS_OFF)
        if reply is not None and reply.picker:
            await ack(text=text, blocks=picker_blocks(reply, parsed))
        else:
            await ack(text=text)

    async def on_pick(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        click = Interaction.of(body, action)
        if click is None:
            return
        if not await self._access.allows(click.user, team=click.team):
            await respond(text=NOT_A_MEMBER, replace_original=True)
            return
        command = _picked(click.value)
        if command is None:
            await respond(text="That choice has expired: run the command again.")
            return
        text, _ = await self._run(command, click.user)
        await respond(text=text, replace_original=True)

    async def _run(self, command: Command, user: str) -> tuple[str, Reply | None]:
        """Run it, once a person it would assign is known to be able to act: the
        answer in words, and the reply it came from (None: it did not run)."""
        assignee = command.user if command.action == ASSIGN.name else None
        if assignee is not None and not await self._access.allows(assignee):
            return NOT_ASSIGNABLE.format(user=assignee), None
        reply = await self._desk.run(command, user)
        return answer_text(reply.answer), reply
