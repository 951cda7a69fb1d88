"""Bolt listeners for a draft's buttons: Send, Edit & send (a modal), Discard. The rules
are in `DraftDesk`; a problem (opted out, already sent by someone) is told to the clicker
alone."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bridge.ai.draft_decisions import DraftDecisions
from bridge.slack.draft_card import DISCARD, EDIT, SEND
from bridge.slack.members import InboxMembers
from bridge.slack.reply_modal import FIELD_BLOCK, reply_modal, submitted_text
from bridge.store.base import Store

MODAL = "draft_edit_modal"


def _user(body: dict[str, Any]) -> str:
    return str(body.get("user", {}).get("id", ""))


async def _tell(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral", replace_original=False)


class DraftActions:
    def __init__(self, drafts: DraftDecisions, store: Store, members: InboxMembers) -> None:
        self._drafts = drafts
        self._store = store
        self._members = members

    def register(self, app: AsyncApp) -> None:
        app.action(SEND)(self.on_decide)
        app.action(DISCARD)(self.on_decide)
        app.action(EDIT)(self.on_edit)
        app.view(MODAL)(self.on_submit)

    async def _allowed(self, user: str, respond: AsyncRespond) -> bool:
        if await self._members.allowed(user):
            return True
        await _tell(respond, "Only members of the SMS inbox channel can do that.")
        return False

    async def on_decide(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """Send or Discard."""
        await ack()
        user = _user(body)
        if not await self._allowed(user, respond):
            return
        message_id = str(action.get("value", ""))
        if action.get("action_id") == SEND:
            problem = await self._drafts.send(message_id, user)
        else:
            problem = await self._drafts.discard(message_id, user)
        if problem is not None:
            await _tell(respond, problem)

    async def on_edit(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        if not await self._allowed(_user(body), respond):
            return
        message = await self._store.get_message(str(action.get("value", "")))
        draft = message.draft if message else None
        if message is None or draft is None or draft.reply is None or not draft.state.open:
            await _tell(respond, "That draft was already handled.")
            return
        modal = reply_modal(
            MODAL, message.id, draft.reply, title="Edit the reply", label="Text to send"
        )
        await client.views_open(trigger_id=body["trigger_id"], view=modal)

    async def on_submit(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = _user(body)
        if not await self._members.allowed(user):
            await ack(
                response_action="errors",
                errors={FIELD_BLOCK: "Only members of the SMS inbox channel can send."},
            )
            return
        message_id = str(view.get("private_metadata", ""))
        problem = await self._drafts.send(message_id, user, submitted_text(view))
        if problem is None:
            await ack()
        else:
            await ack(response_action="errors", errors={FIELD_BLOCK: problem})
