"""The buttons on a conversation's header card: Assign to me, Resolve/Reopen,
Flag/Unflag."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bridge.slack.header import ASSIGN_ME, FLAG, REOPEN, RESOLVE, UNFLAG
from bridge.slack.members import InboxMembers
from bridge.store.base import Store
from bridge.threading.lifecycle import ConversationDesk


class HeaderActions:
    def __init__(self, store: Store, desk: ConversationDesk, members: InboxMembers) -> None:
        self._store = store
        self._desk = desk
        self._members = members

    def register(self, app: AsyncApp) -> None:
        for action_id in (ASSIGN_ME, RESOLVE, REOPEN, FLAG, UNFLAG):
            app.action(action_id)(self.on_click)

    async def on_click(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        user = str(body.get("user", {}).get("id", ""))
        if not await self._members.allowed(user):
            await respond(
                text="Only members of the SMS inbox channel can do that.",
                response_type="ephemeral",
                replace_original=False,
            )
            return
        value = str(action.get("value", ""))
        conversation = await self._store.get_conversation(int(value)) if value.isdigit() else None
        if conversation is None:
            return
        action_id = action.get("action_id")
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
