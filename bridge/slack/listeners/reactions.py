"""Emoji reactions on a conversation's parent or any message of its thread, mapped in
the config to actions; removing the reaction undoes where that makes sense."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bridge.config import ConfigError
from bridge.models import Conversation
from bridge.slack.access import InboxAccess, slack_id, slack_ts
from bridge.slack.jobs.delivery_marks import MARKS
from bridge.threading.command_desk import CommandDesk
from bridge.threading.commands.canned import SEND as CANNED_SEND
from bridge.threading.commands.grammar import Command, Target
from bridge.threading.conversation_desk import ConversationDesk

log = structlog.get_logger(__name__)


def mark_clash(mapping: dict[str, str]) -> str | None:
    """The problem when a reaction mapped to an action is one of the bridge's own
    delivery marks (`check` reports it, `serve` refuses it)."""
    marks = sorted(MARKS & mapping.keys())
    if not marks:
        return None
    return (
        f"slack.reactions in BRIDGE_CONFIG: {marks[0]} is the bridge's delivery mark;"
        " map another emoji"
    )


class ReactionListener:
    def __init__(
        self,
        desk: ConversationDesk,
        commands: CommandDesk,
        access: InboxAccess,
        mapping: dict[str, str],
    ) -> None:
        clash = mark_clash(mapping)
        if clash is not None:
            raise ConfigError(clash)
        self._desk = desk
        self._commands = commands
        self._access = access
        self._mapping = mapping

    def register(self, app: AsyncApp) -> None:
        app.event("reaction_added")(self.on_added)
        app.event("reaction_removed")(self.on_removed)

    async def _target(
        self, event: dict[str, Any], context: AsyncBoltContext
    ) -> tuple[Conversation, str, str] | None:
        """(conversation, reactor, action) when this reaction means something to us."""
        action = self._mapping.get(str(event.get("reaction", "")))
        user = slack_id(event.get("user"))
        item = event.get("item") or {}
        if action is None or not isinstance(item, dict) or item.get("type") != "message":
            return None  # not mapped, or not on a message
        if user is None or user == context.bot_user_id:
            return None  # the bridge's own delivery marks
        channel, ts = slack_id(item.get("channel")), slack_ts(item.get("ts"))
        if channel is None or ts is None:
            return None
        conversation = await self._access.conversation_at(channel, ts)
        if conversation is None or not await self._access.allows(user):
            return None
        return conversation, user, action

    async def on_added(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        found = await self._target(event, context)
        if found is None:
            return
        conversation, user, action = found
        if action == "resolve":
            await self._desk.resolve(conversation, by=user)
        elif action == "flag":
            await self._desk.flag(conversation, by=user, reason="")
        elif action == "assign_me":
            await self._desk.assign(conversation, user, by=user)
        elif action == "seen":
            await self._desk.seen(conversation, by=user)
        elif action.startswith("canned:"):
            command = Command(
                action=CANNED_SEND.name,
                name=action.removeprefix("canned:"),
                target=Target(number=conversation.id),
            )
            item = event.get("item") or {}
            key = f"react:{item.get('channel')}:{item.get('ts')}:{user}:{event.get('reaction')}"
            await self._commands.run(command, user, key=key)
            log.info("slack.reaction_canned", conversation=conversation.id)

    async def on_removed(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        found = await self._target(event, context)
        if found is None:
            return
        conversation, user, action = found
        if action == "resolve":
            await self._desk.reopen(conversation, by=user)
        elif action == "flag":
            await self._desk.unflag(conversation, by=user)
        elif action == "assign_me" and conversation.assignee == user:
            await self._desk.unassign(conversation, by=user)
