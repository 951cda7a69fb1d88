"""Bolt listeners for a draft's buttons: Send, Edit & send (a modal), Discard. A click
acts on the draft shown where it was clicked, only. The rules are in `DraftDecisions`; a
problem (opted out, already sent by someone) is told to the clicker alone."""

from __future__ import annotations

import json
from typing import Any, Protocol

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bridge.ai.draft_decisions import GONE, DraftDecisions
from bridge.models import Direction, Message
from bridge.slack.access import NOT_A_MEMBER, InboxAccess, Interaction, dialog_memory
from bridge.slack.blocks.draft_card import DISCARD, EDIT, SEND
from bridge.slack.blocks.mrkdwn import field_error
from bridge.slack.blocks.reply_modal import FIELD_BLOCK, reply_modal, submitted_text
from bridge.slack.blocks.wording import draft_problem_text, taken_text
from bridge.store.base import ConversationStore, MessageStore


class _Store(ConversationStore, MessageStore, Protocol):
    """The store roles this module uses."""


MODAL = "draft_edit_modal"


async def _tell(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral", replace_original=False)


def _dialog_of(message: Message) -> str:
    """What the edit dialog remembers: the draft's text and its conversation."""
    return json.dumps({"message": message.id, "conversation": message.conversation_id})


class DraftButtons:
    def __init__(self, drafts: DraftDecisions, store: _Store, access: InboxAccess) -> None:
        self._drafts = drafts
        self._store = store
        self._access = access

    def register(self, app: AsyncApp) -> None:
        app.action(SEND)(self.on_decide)
        app.action(DISCARD)(self.on_decide)
        app.action(EDIT)(self.on_edit)
        app.view(MODAL)(self.on_submit)

    async def _clicked(
        self, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> tuple[Interaction, Message] | None:
        """The click and the text whose draft it is, when the clicker may act on it."""
        click = Interaction.of(body, action)
        if click is None:
            return None
        if not await self._access.allows(click.user, team=click.team):
            await _tell(respond, NOT_A_MEMBER)
            return None
        message = await self._store.get_message(click.value) if click.value else None
        draft = message.draft if message else None
        if message is None or draft is None or message.direction is not Direction.INBOUND:
            await _tell(respond, taken_text(GONE))
            return None
        conversation = await self._store.get_conversation(message.conversation_id)
        shown_on = frozenset(ts for ts in (message.slack_ts, draft.slack_ts) if ts)
        if conversation is None or not await self._access.came_from(
            conversation, click, on=shown_on
        ):
            await _tell(respond, taken_text(GONE))
            return None
        return click, message

    async def on_decide(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """Send or Discard."""
        await ack()
        clicked = await self._clicked(body, action, respond)
        if clicked is None:
            return
        click, message = clicked
        if action.get("action_id") == SEND:
            problem = await self._drafts.send(message.id, click.user)
        else:
            problem = await self._drafts.discard(message.id, click.user)
        if problem is not None:
            await _tell(respond, draft_problem_text(problem))

    async def on_edit(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        clicked = await self._clicked(body, action, respond)
        if clicked is None:
            return
        click, message = clicked
        draft = message.draft
        if draft is None or draft.reply is None or not draft.state.open:
            await _tell(respond, "That draft was already handled.")
            return
        if click.trigger_id is None:
            return  # Slack sends one with every click; without it no dialog can open
        modal = reply_modal(
            MODAL, _dialog_of(message), draft.reply, title="Edit the reply", label="Text to send"
        )
        await client.views_open(trigger_id=click.trigger_id, view=modal)

    async def on_submit(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        submitter = Interaction.of(body)
        message = await self._dialog_message(view)
        if submitter is None or message is None:
            await ack()
            return
        if not await self._access.allows(submitter.user, team=submitter.team):
            await ack(response_action="errors", errors={FIELD_BLOCK: NOT_A_MEMBER})
            return
        problem = await self._drafts.send(message.id, submitter.user, submitted_text(view))
        if problem is None:
            await ack()
        else:
            await ack(
                response_action="errors",
                errors={FIELD_BLOCK: field_error(draft_problem_text(problem))},
            )

    async def _dialog_message(self, view: dict[str, Any]) -> Message | None:
        """The text whose draft the dialog edits, if it is of the dialog's conversation."""
        remembered = dialog_memory(view)
        if remembered is None:
            return None
        message = await self._store.get_message(remembered["message"])
        if message is None or message.conversation_id != remembered.get("conversation"):
            return None
        return message
