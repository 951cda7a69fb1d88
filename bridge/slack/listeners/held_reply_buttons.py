"""Bolt listeners for a held reply's buttons: edit it into a support-only reply (in a
modal), or cancel it. Only its author decides (the note is shown to them alone), from
its own conversation; the rules are in `OutboundPipeline`."""

from __future__ import annotations

import json
from typing import Any, Protocol

import aiohttp
import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bridge.models import DeliveryStatus, Direction, Message
from bridge.slack.access import NOT_A_MEMBER, InboxAccess, Interaction, dialog_memory
from bridge.slack.blocks.held_note import CANCEL_ACTION, EDIT_ACTION
from bridge.slack.blocks.mrkdwn import escape, field_error
from bridge.slack.blocks.reply_modal import FIELD_BLOCK, reply_modal, submitted_text
from bridge.slack.blocks.wording import problem_text
from bridge.store.base import ConversationStore, MessageStore
from bridge.text import clip
from bridge.threading.outbound import OutboundPipeline


class _Store(ConversationStore, MessageStore, Protocol):
    """The store roles this module uses."""


MODAL = "held_edit_modal"
GONE = "That reply was already handled."
log = structlog.get_logger(__name__)


def _remembered(view: dict[str, Any]) -> tuple[str, str | None] | None:
    """(the held reply, the response_url of its note) the dialog was opened with."""
    remembered = dialog_memory(view)
    if remembered is None:
        return None
    note = remembered.get("note")
    return remembered["message"], note if isinstance(note, str) else None


class HeldReplyButtons:
    def __init__(self, outbound: OutboundPipeline, store: _Store, access: InboxAccess) -> None:
        self._outbound = outbound
        self._store = store
        self._access = access

    def register(self, app: AsyncApp) -> None:
        app.action(EDIT_ACTION)(self.on_edit)
        app.action(CANCEL_ACTION)(self.on_cancel)
        app.view(MODAL)(self.on_submit)

    async def _held(self, user: str, team: str | None, message_id: str) -> Message | str:
        """The author's own held reply, or what to tell them."""
        if not await self._access.allows(user, team=team):
            return NOT_A_MEMBER
        message = await self._store.get_message(message_id) if message_id else None
        if (
            message is None
            or message.direction is not Direction.OUTBOUND
            or message.author != user
            or message.status is not DeliveryStatus.HELD
        ):
            return GONE
        return message

    async def _clicked(self, body: dict[str, Any], action: dict[str, Any]) -> Message | str | None:
        click = Interaction.of(body, action)
        if click is None:
            return None
        held = await self._held(click.user, click.team, click.value)
        if isinstance(held, str):
            return held
        conversation = await self._store.get_conversation(held.conversation_id)
        if conversation is None or not await self._access.came_from(conversation, click):
            return GONE
        return held

    async def on_edit(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        held = await self._clicked(body, action)
        if isinstance(held, str):
            await respond(text=held, response_type="ephemeral", replace_original=False)
            return
        trigger = Interaction.of(body, action)
        if held is None or trigger is None or trigger.trigger_id is None:
            return
        # The dialog remembers the note it came from, to settle it once sent.
        note = body.get("response_url")
        remembered = {"message": held.id, "note": note if isinstance(note, str) else None}
        modal = reply_modal(
            MODAL,
            json.dumps(remembered),
            held.body,
            title="Support-only reply",
            label="Reply without the marketing",
        )
        await client.views_open(trigger_id=trigger.trigger_id, view=modal)

    async def on_cancel(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        held = await self._clicked(body, action)
        if held is None:
            return
        if isinstance(held, str):
            await respond(text=held, response_type="ephemeral", replace_original=False)
            return
        cancelled = await self._outbound.cancel_held(held.id)
        await respond(
            text=":x: Cancelled: nothing was sent." if cancelled else GONE, replace_original=True
        )

    async def on_submit(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        submitter = Interaction.of(body)
        remembered = _remembered(view)
        if submitter is None or remembered is None:
            await ack()
            return
        message_id, note = remembered
        held = await self._held(submitter.user, submitter.team, message_id)
        if isinstance(held, str):
            await ack(response_action="errors", errors={FIELD_BLOCK: held})
            return
        text = submitted_text(view)
        problem = await self._outbound.release_held(held.id, text)
        if problem is not None:
            await ack(
                response_action="errors", errors={FIELD_BLOCK: field_error(problem_text(problem))}
            )
            return
        await ack()
        if note is not None:  # the held note loses its buttons: it is decided
            settled = f":outbox_tray: Sent as support-only: “{escape(clip(text, 2500))}”"
            await self._settle_note(note, settled)

    async def _settle_note(self, response_url: str, text: str) -> None:
        try:
            await AsyncWebhookClient(response_url).send(text=text, replace_original=True)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.info("slack.held_note_not_settled", error=type(exc).__name__)
