"""Bolt listeners for a held reply's buttons: edit it into a support-only reply (in a
modal), or cancel it. The rules are in `OutboundPipeline`."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bridge.slack.agent_notes import CANCEL_ACTION, EDIT_ACTION
from bridge.slack.reply_modal import FIELD_BLOCK, reply_modal, submitted_text
from bridge.store.base import Store
from bridge.threading.outbound import OutboundPipeline

MODAL = "held_edit_modal"


class HeldReplyActions:
    def __init__(self, outbound: OutboundPipeline, store: Store) -> None:
        self._outbound = outbound
        self._store = store

    def register(self, app: AsyncApp) -> None:
        app.action(EDIT_ACTION)(self.on_edit)
        app.action(CANCEL_ACTION)(self.on_cancel)
        app.view(MODAL)(self.on_submit)

    async def on_edit(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        message = await self._store.get_message(str(action.get("value", "")))
        if message is None:
            await respond(text="That reply is gone.", replace_original=True)
            return
        modal = reply_modal(
            MODAL,
            message.id,
            message.body,
            title="Support-only reply",
            label="Reply without the marketing",
        )
        await client.views_open(trigger_id=body["trigger_id"], view=modal)

    async def on_cancel(self, ack: AsyncAck, action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        cancelled = await self._outbound.cancel_held(str(action.get("value", "")))
        await respond(
            text="Cancelled: nothing was sent." if cancelled else "That reply was already handled.",
            replace_original=True,
        )

    async def on_submit(self, ack: AsyncAck, view: dict[str, Any]) -> None:
        text = submitted_text(view)
        problem = await self._outbound.release_held(str(view.get("private_metadata", "")), text)
        if problem is None:
            await ack()
        else:
            await ack(response_action="errors", errors={FIELD_BLOCK: problem})
