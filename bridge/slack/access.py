"""Who may act on the inbox, and on what: the one rule every path that can act or send
applies (thread replies, `/sms`, buttons, dialogs, the message shortcut, reactions,
App Home).

A person acts when they are a member of the inbox (its channel, or `slack.user_group`)
and a user of this workspace: a Slack Connect guest may sit in the channel but never
acts for the business. An action that names an object (a message, a conversation)
acts only on an object of the conversation it came from: the thread it was clicked in,
the conversation its dialog was opened on.

Interaction payloads are data from outside: `Interaction.of` reads what a listener needs
with bounds, and a payload that does not have it is ignored (acknowledged, no effect).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from bridge.models import Conversation
from bridge.slack.gateway import SlackGateway
from bridge.slack.members import InboxMembers
from bridge.slack.names import SlackNames
from bridge.store.base import ConversationStore, MessageStore


class _Store(ConversationStore, MessageStore, Protocol):
    """The store roles this module uses."""


NOT_A_MEMBER = "Only members of the SMS inbox channel can do that."

_ID = re.compile(r"[A-Z0-9][A-Z0-9_]{1,39}")  # Slack ids: U…, W…, C…, G…, D…, T…, E…
_TS = re.compile(r"\d{1,12}\.\d{1,9}")
MAX_VALUE = 2000  # a button's value holds at most 2,000 characters
MAX_CONVERSATION_ID = 2**53  # beyond what any store numbers (and SQLite's 64 bits)


def slack_id(value: object) -> str | None:
    return value if isinstance(value, str) and _ID.fullmatch(value) else None


def slack_ts(value: object) -> str | None:
    return value if isinstance(value, str) and _TS.fullmatch(value) else None


def conversation_number(value: object) -> int | None:
    """A conversation id as a button or dialog carries it, or None."""
    if not isinstance(value, str) or not value.isdigit() or len(value) > 16:
        return None
    number = int(value)
    return number if 0 < number < MAX_CONVERSATION_ID else None


def dialog_memory(view: object) -> dict[str, Any] | None:
    """What a dialog was opened with: its `private_metadata`, a JSON object naming a
    message, or None when it is anything else."""
    raw = _get(view, "private_metadata")
    try:
        memory = json.loads(raw) if isinstance(raw, str) else None
    except (ValueError, RecursionError):
        return None
    if not isinstance(memory, dict) or not isinstance(memory.get("message"), str):
        return None
    return memory


def selected(element: object) -> str | None:
    """The value of the option chosen in a select or radio element's state, if any."""
    value = _get(element, "selected_option", "value")
    return value if isinstance(value, str) and len(value) <= MAX_VALUE else None


def _get(data: object, *path: str) -> object:
    for name in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(name)
    return data


class Interaction(BaseModel):
    """A click, a dialog or a shortcut, as far as the rule needs it."""

    model_config = ConfigDict(frozen=True)

    user: str
    team: str | None = None  # the workspace the payload says it came from
    channel: str | None = None  # where the clicked message is
    message_ts: str | None = None  # the clicked message
    thread_ts: str | None = None  # its thread, when Slack says
    ephemeral: bool = False  # the clicked message was shown to this person alone
    trigger_id: str | None = None  # for opening a dialog
    value: str = ""  # the clicked element's value

    @classmethod
    def of(
        cls, body: Mapping[str, Any], action: Mapping[str, Any] | None = None
    ) -> Interaction | None:
        user = slack_id(_get(body, "user", "id"))
        if user is None:
            return None
        value = action.get("value") if action is not None else None
        trigger = _get(body, "trigger_id")
        return cls(
            user=user,
            team=slack_id(_get(body, "team", "id")) or slack_id(_get(body, "user", "team_id")),
            channel=slack_id(_get(body, "container", "channel_id"))
            or slack_id(_get(body, "channel", "id")),
            message_ts=slack_ts(_get(body, "container", "message_ts"))
            or slack_ts(_get(body, "message", "ts")),
            thread_ts=slack_ts(_get(body, "container", "thread_ts"))
            or slack_ts(_get(body, "message", "thread_ts")),
            ephemeral=_get(body, "container", "is_ephemeral") is True,
            trigger_id=trigger if isinstance(trigger, str) and 0 < len(trigger) < 200 else None,
            value=value if isinstance(value, str) and len(value) <= MAX_VALUE else "",
        )


class InboxAccess:
    def __init__(
        self, members: InboxMembers, names: SlackNames, gateway: SlackGateway, store: _Store
    ) -> None:
        self._members = members
        self._names = names
        self._gateway = gateway
        self._store = store

    async def allows(self, user: str, *, team: str | None = None) -> bool:
        """Whether `user` (of `team`, when the payload names one) may act. Refuses when
        Slack cannot say who they are: nothing is done for an unknown person."""
        identity = await self._gateway.identity()
        if identity is None or (team is not None and team != identity.team_id):
            return False
        if not await self._members.allowed(user):
            return False
        person = await self._names.person(user)
        return person is not None and person.active and person.team == identity.team_id

    async def conversation_at(self, channel: str, ts: str) -> Conversation | None:
        """The conversation a Slack message belongs to: its thread's parent card, or a
        text or reply posted in its thread."""
        found = await self._store.find_conversation_by_thread(channel, ts)
        if found is not None:
            return found
        message = await self._store.get_message_by_slack_ts(channel, ts)
        return await self._store.get_conversation(message.conversation_id) if message else None

    async def came_from(
        self,
        conversation: Conversation,
        interaction: Interaction,
        *,
        on: frozenset[str] = frozenset(),
    ) -> bool:
        """Whether the click was in this conversation's thread: on its card, on one of
        its messages (or on `on`, messages the caller knows are its), or on a note shown
        only to the clicker in its channel."""
        if interaction.channel is None or interaction.channel != conversation.slack_channel:
            return False
        if interaction.thread_ts is not None:
            return interaction.thread_ts == conversation.slack_thread_ts
        clicked = interaction.message_ts
        if clicked is None:
            return False
        if clicked == conversation.slack_thread_ts or clicked in on:
            return True
        if interaction.ephemeral:
            return True  # Slack keeps no ephemeral message to look up: its channel says
        found = await self.conversation_at(interaction.channel, clicked)
        return found is not None and found.id == conversation.id
