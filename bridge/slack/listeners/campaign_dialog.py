"""The `/sms campaign` dialog: opened by the command, its preview re-rendered as the
person fills it in (the campaign desk's `plan`: no writes), and on submit the campaign
created by the person who submitted it. What is wrong with the campaign as written is
said on its field (then nothing is created); the submission is then answered, and the
campaign created after the answer: reading a large audience's consent outlasts Slack's
3 s (10,000 recipients: about 3 s on a busy 2-core machine). What only that reading
finds (nobody may get it) is told to the person ephemerally in the channel where they
ran the command. Only inbox members who may run `/sms campaign` get this far."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bridge.campaigns.errors import CampaignError
from bridge.campaigns.models import CampaignSpec
from bridge.models import utcnow
from bridge.slack.access import NOT_A_MEMBER, InboxAccess, Interaction
from bridge.slack.blocks.campaign_modal import FIELD_PREFIX, MODAL, campaign_modal, preview_text
from bridge.slack.blocks.campaign_words import CAMPAIGNS_OFF, campaign_not_created_text
from bridge.slack.blocks.mrkdwn import escape
from bridge.slack.listeners.campaign_form import read_form
from bridge.threading.command_desk import CommandDesk
from bridge.threading.commands.campaign import DIALOG

FIELDS = re.compile(rf"^{FIELD_PREFIX}")
# A CampaignError names its key first ("text: …"): the dialog's field for each.
_FIELD_OF_KEY = {
    "name": "name",
    "kind": "kind",
    "from": "from",
    "to": "tags",
    "text": "text",
    "poll": "options",
    "feedback": "link",
    "opt_in": "flow",
    "send_at": "send_at",
    **{f"{flow}.open_hours": "open_hours" for flow in ("poll", "feedback", "opt_in")},
}
ADMINS_ONLY = "Only admins can start campaigns."
# A stop waits this long for campaigns being created from the dialog.
FINISH_SECONDS = 10.0
# Told when creating failed for a reason of the bridge's own (logged).
NOT_STORED = "it could not be stored just now; submit it again"

log = structlog.get_logger(__name__)


def error_field(error: CampaignError) -> str:
    key = str(error).split(":", 1)[0].strip()
    return _FIELD_OF_KEY.get(key) or _FIELD_OF_KEY.get(key.split(".", 1)[0], "text")


def _values(view: object) -> object:
    state = view.get("state") if isinstance(view, dict) else None
    return state.get("values") if isinstance(state, dict) else None


class CampaignDialog:
    def __init__(
        self,
        commands: CommandDesk,
        access: InboxAccess,
        *,
        numbers: Sequence[str],
        segments: Sequence[str],
    ) -> None:
        """`numbers`: the business numbers a campaign may be sent from; `segments`: the
        saved segments' names (`campaigns.segments`)."""
        self._commands = commands
        self._access = access
        self._numbers = tuple(numbers)
        self._segments = tuple(segments)
        self._creating: set[asyncio.Task[None]] = set()  # kept until done (not collected)

    async def finish(self, grace: float = FINISH_SECONDS) -> None:
        """Let campaigns being created finish; cancel those that take longer than
        `grace` (nothing of one is stored until its one write)."""
        if not self._creating:
            return
        _, late = await asyncio.wait(set(self._creating), timeout=grace)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=grace)

    def register(self, app: AsyncApp) -> None:
        app.action({"action_id": FIELDS})(self.on_change)
        app.view(MODAL)(self.on_submit)

    async def open(self, client: AsyncWebClient, trigger_id: str, *, channel: str) -> None:
        """Open it for the person who ran `/sms campaign` in `channel` (checked by the
        command); the dialog carries the channel, where a late refusal is told."""
        view = campaign_modal(numbers=self._numbers, segments=self._segments)
        await client.views_open(trigger_id=trigger_id, view=view | {"private_metadata": channel})

    async def _refusal(self, body: dict[str, Any]) -> tuple[str, str | None]:
        """(who, why they may not use it — None: they may)."""
        person = Interaction.of(body)
        if person is None or not await self._access.allows(person.user, team=person.team):
            return "", NOT_A_MEMBER
        if not self._commands.may(DIALOG.name, person.user):
            return person.user, ADMINS_ONLY
        return person.user, None

    async def on_change(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        view = body.get("view")
        _, refused = await self._refusal(body)
        if refused or not isinstance(view, dict) or not isinstance(view.get("id"), str):
            return
        preview = await self._preview(_values(view))
        modal = campaign_modal(numbers=self._numbers, segments=self._segments, preview=preview)
        await client.views_update(
            view_id=view["id"],
            hash=view.get("hash"),
            view=modal | {"private_metadata": str(view.get("private_metadata") or "")},
        )

    async def _preview(self, values: object) -> str:
        spec, errors = read_form(
            values, numbers=self._numbers, segments=self._segments, now=utcnow(), draft=True
        )
        if spec is None:
            return "_To preview: " + escape(" ".join(errors.values())) + "_"
        desk = self._commands.campaigns
        if desk is None:
            return CAMPAIGNS_OFF
        try:
            return preview_text(await desk.plan(spec))
        except CampaignError as exc:
            return f":warning: {escape(str(exc))}"

    async def on_submit(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        client: AsyncWebClient,
    ) -> None:
        user, refused = await self._refusal(body)
        if refused:
            await ack(response_action="errors", errors={"name": refused})
            return
        spec, errors = read_form(
            _values(view), numbers=self._numbers, segments=self._segments, now=utcnow()
        )
        if spec is None:
            await ack(response_action="errors", errors=errors)
            return
        desk = self._commands.campaigns
        if desk is None:
            await ack(response_action="errors", errors={"name": CAMPAIGNS_OFF})
            return
        try:
            await desk.check(spec)
        except CampaignError as exc:
            await ack(response_action="errors", errors={error_field(exc): str(exc)})
            return
        await ack()  # its progress message shows it in the channel
        channel = str(view.get("private_metadata") or "")
        task = asyncio.create_task(self._create(client, spec, user, channel))
        self._creating.add(task)
        task.add_done_callback(self._creating.discard)

    async def _create(
        self, client: AsyncWebClient, spec: CampaignSpec, user: str, channel: str
    ) -> None:
        """After the answer: create it, or tell the person why not."""
        desk = self._commands.campaigns
        assert desk is not None  # checked before the answer
        try:
            await desk.create(spec, by=user)
            return
        except CampaignError as exc:
            problem = str(exc)
        except Exception:
            log.exception("campaign.dialog_create_failed", user=user, name=spec.name)
            problem = NOT_STORED
        if not channel:
            log.warning("campaign.dialog_refusal_untold", user=user, problem=problem)
            return
        await client.chat_postEphemeral(
            channel=channel, user=user, text=campaign_not_created_text(spec.name, problem)
        )
