"""The buttons on a conversation's header card: Assign to me, Resolve/Reopen,
Flag/Unflag. A click acts on the conversation whose card was clicked, only."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bridge.slack.access import NOT_A_MEMBER, InboxAccess, Interaction, conversation_number
from bridge.slack.blocks.header_card import ASSIGN_ME, FLAG, REOPEN, RESOLVE, UNFLAG
from bridge.store.base import ConversationStore
from bridge.threading.conversation_desk import ConversationDesk


class HeaderButtons:
    def __init__(
        self, store: ConversationStore, desk: ConversationDesk, access: InboxAccess
    ) -> None:
        self._store = store
        self._desk = desk
        self._access = access

    def register(self, app: AsyncApp) -> None:
        for action_id in (ASSIGN_ME, RESOLVE, REOPEN, FLAG, UNFLAG):
            app.action(action_id)(self.on_click)

    async def on_click(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        click = Interaction.of(body, action)
        if click is None:
            return
        if not await self._access.allows(click.user, team=click.team):
            await respond(text=NOT_A_MEMBER, response_type="ephemeral", replace_original=False)
            return
        number = conversation_number(click.value)
        conversation = await self._store.get_conversation(number) if number else None
        if conversation is None or not await self._access.came_from(conversation, click):
            return  # a card of another conversation, or none: nothing to act on
        user, action_id = click.user, action.get("action_id")
        if action_id == ASSIGN_ME:
            await self._desk.assign(conversation, user, by=user)
        elif action_id == RESOLVE:
            await self._desk.resolve(conversation, by=user)
        elif action_id == REOPEN:
            await self._desk.reopen(conversation, by=user)
        elif action_id == FLAG:
            await self._desk.flag(conversation, by=user, reason="")
        elif action_id == UNFLAG:
            await self._desk.unflag(conversation, by=user)
