"""The buttons on a campaign's progress message: Pause, Resume, Cancel. A click acts
on the campaign whose message was clicked, only, as the `/sms campaign` command of the
same name (its permission, its desk); what stops it is told to the clicker alone, and
the message itself shows what changed."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bridge.slack.access import NOT_A_MEMBER, InboxAccess, Interaction
from bridge.slack.blocks.campaign_progress import CANCEL, PAUSE, RESUME
from bridge.slack.blocks.wording import answer_text
from bridge.store.base import CampaignStore
from bridge.threading.command_desk import CommandDesk
from bridge.threading.commands.answers import CampaignMove
from bridge.threading.commands.campaign import CANCEL as CANCEL_COMMAND
from bridge.threading.commands.campaign import PAUSE as PAUSE_COMMAND
from bridge.threading.commands.campaign import RESUME as RESUME_COMMAND
from bridge.threading.commands.grammar import Command

COMMANDS = {PAUSE: PAUSE_COMMAND.name, RESUME: RESUME_COMMAND.name, CANCEL: CANCEL_COMMAND.name}


class CampaignButtons:
    def __init__(self, store: CampaignStore, commands: CommandDesk, access: InboxAccess) -> None:
        self._store = store
        self._commands = commands
        self._access = access

    def register(self, app: AsyncApp) -> None:
        for action_id in COMMANDS:
            app.action(action_id)(self.on_click)

    async def on_click(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        click = Interaction.of(body, action)
        command = COMMANDS.get(str(action.get("action_id")))
        if click is None or command is None:
            return
        if not await self._access.allows(click.user, team=click.team):
            await respond(text=NOT_A_MEMBER, response_type="ephemeral", replace_original=False)
            return
        campaign = await self._store.get_campaign(click.value) if click.value else None
        if (
            campaign is None
            or click.channel != campaign.slack_channel
            or click.message_ts != campaign.progress_ts
        ):
            return  # not this campaign's progress message: nothing to act on
        reply = await self._commands.run(Command(action=command, name=campaign.id), click.user)
        if not (isinstance(reply.answer, CampaignMove) and reply.answer.done):
            text = answer_text(reply.answer)
            await respond(text=text, response_type="ephemeral", replace_original=False)
