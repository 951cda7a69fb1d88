"""The message shortcut "SMS actions" on any message of a conversation's thread (a
shortcut, unlike a slash command, knows its thread): one dialog to assign, resolve,
flag with a reason, or send a canned response after seeing it personalised."""

from __future__ import annotations

from typing import Any, Protocol

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bridge.models import Conversation, ConversationStatus
from bridge.phones import display
from bridge.slack.access import (
    NOT_A_MEMBER,
    InboxAccess,
    Interaction,
    conversation_number,
    selected,
    slack_id,
    slack_ts,
)
from bridge.slack.blocks.mrkdwn import escape, field_error
from bridge.slack.blocks.wording import answer_text
from bridge.store.base import CannedStore, ConversationStore
from bridge.text import clip
from bridge.threading.command_desk import CommandDesk
from bridge.threading.commands.canned import SEND as CANNED_SEND
from bridge.threading.commands.grammar import Command, Target
from bridge.threading.conversation_desk import ConversationDesk


class _Store(ConversationStore, CannedStore, Protocol):
    """The store roles this module uses."""


SHORTCUT = "sms_actions"
MODAL = "sms_actions_modal"
CANNED_PICK = "canned_pick"


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": label[:75]}, "value": value}


def actions_modal(
    conversation: Conversation, canned: dict[str, str], preview: str | None = None
) -> dict[str, Any]:
    statuses = [_option("keep", "Keep as it is")]
    if conversation.status is ConversationStatus.RESOLVED:
        statuses.append(_option("reopen", "Reopen"))
    else:
        statuses += [_option("resolve", "Resolve"), _option("flag", "Flag")]
    if conversation.flagged:
        statuses.append(_option("unflag", "Unflag"))
    assignee: dict[str, Any] = {"type": "users_select", "action_id": "user"}
    if conversation.assignee:
        assignee["initial_user"] = conversation.assignee
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*#{conversation.id}* {display(conversation.subscriber)}",
            },
        },
        {
            "type": "input",
            "block_id": "assign",
            "optional": True,
            "label": {"type": "plain_text", "text": "Assigned to"},
            "element": assignee,
        },
        {
            "type": "input",
            "block_id": "status",
            "optional": True,
            "label": {"type": "plain_text", "text": "Status"},
            "element": {
                "type": "radio_buttons",
                "action_id": "status",
                "options": statuses,
                "initial_option": statuses[0],
            },
        },
        {
            "type": "input",
            "block_id": "reason",
            "optional": True,
            "label": {"type": "plain_text", "text": "Flag reason"},
            "element": {"type": "plain_text_input", "action_id": "reason", "max_length": 500},
        },
    ]
    if canned:
        blocks.append(
            {
                "type": "input",
                "block_id": "canned",
                "optional": True,
                "dispatch_action": True,  # picking one shows its preview at once
                "label": {"type": "plain_text", "text": "Send a canned response"},
                "element": {
                    "type": "static_select",
                    "action_id": CANNED_PICK,
                    "options": [_option(name, name) for name in list(canned)[:100]],
                },
            }
        )
        text = preview or "_Pick one to see it as the subscriber will._"
        blocks.append(
            {
                "type": "context",
                "block_id": "preview",
                "elements": [{"type": "mrkdwn", "text": clip(text, 2000)}],
            }
        )
    return {
        "type": "modal",
        "callback_id": MODAL,
        "private_metadata": str(conversation.id),
        "title": {"type": "plain_text", "text": "SMS actions"},
        "submit": {"type": "plain_text", "text": "Apply"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def _value(values: object, block: str, action: str) -> dict[str, Any]:
    """A dialog field's state, or {} when the submission does not have it."""
    fields = values.get(block) if isinstance(values, dict) else None
    state = fields.get(action) if isinstance(fields, dict) else None
    return state if isinstance(state, dict) else {}


def _refusal(why: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "SMS actions"},
        "close": {"type": "plain_text", "text": "OK"},
        "blocks": [{"type": "section", "text": {"type": "plain_text", "text": why}}],
    }


NOT_IN_A_CONVERSATION = "This message is not part of an SMS conversation."


class SmsActionsShortcut:
    def __init__(
        self,
        store: _Store,
        desk: ConversationDesk,
        commands: CommandDesk,
        access: InboxAccess,
    ) -> None:
        self._store = store
        self._desk = desk
        self._commands = commands
        self._access = access

    def register(self, app: AsyncApp) -> None:
        app.shortcut(SHORTCUT)(self.on_shortcut)
        app.action(CANNED_PICK)(self.on_pick)
        app.view(MODAL)(self.on_submit)

    async def _conversation_of(self, shortcut: dict[str, Any]) -> Conversation | None:
        channel = slack_id((shortcut.get("channel") or {}).get("id"))
        message = shortcut.get("message") or {}
        if channel is None or not isinstance(message, dict):
            return None
        for ts in (slack_ts(message.get("thread_ts")), slack_ts(message.get("ts"))):
            if ts is not None and (found := await self._access.conversation_at(channel, ts)):
                return found
        return None

    async def _dialog_conversation(
        self, body: dict[str, Any], view: dict[str, Any]
    ) -> tuple[str, Conversation] | None:
        """(who acts, on which conversation) for a use of the dialog, if they may."""
        person = Interaction.of(body)
        number = conversation_number(view.get("private_metadata"))
        if person is None or number is None:
            return None
        if not await self._access.allows(person.user, team=person.team):
            return None
        conversation = await self._store.get_conversation(number)
        return (person.user, conversation) if conversation else None

    async def on_shortcut(
        self, ack: AsyncAck, shortcut: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        person = Interaction.of(shortcut)
        if person is None or person.trigger_id is None:
            return  # no one to answer, or no way to open the dialog
        conversation = await self._conversation_of(shortcut)
        if conversation is None:
            view = _refusal(NOT_IN_A_CONVERSATION)
        elif not await self._access.allows(person.user, team=person.team):
            view = _refusal(NOT_A_MEMBER)
        else:
            view = actions_modal(conversation, await self._store.list_canned())
        await client.views_open(trigger_id=person.trigger_id, view=view)

    async def on_pick(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        view = body.get("view") or {}
        found = await self._dialog_conversation(body, view)
        if found is None or not isinstance(view.get("id"), str):
            return
        _, conversation = found
        name = selected(action) or ""
        canned = await self._store.list_canned()
        preview = await self._commands.preview(name, conversation)
        await client.views_update(
            view_id=view["id"],
            hash=view.get("hash"),
            view=actions_modal(
                conversation,
                canned,
                escape(preview) if isinstance(preview, str) else answer_text(preview),
            ),
        )

    async def on_submit(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        found = await self._dialog_conversation(body, view)
        if found is None:
            await ack()
            return
        user, conversation = found
        state = view.get("state")
        values = state.get("values") if isinstance(state, dict) else None
        canned = selected(_value(values, "canned", CANNED_PICK))
        if canned:
            # Checked first: a canned response that cannot go out keeps the dialog open.
            problem = await self._commands.canned_problem(str(canned), conversation)
            if problem is not None:
                await ack(
                    response_action="errors", errors={"canned": field_error(answer_text(problem))}
                )
                return
        assignee = slack_id(_value(values, "assign", "user").get("selected_user"))
        reassign = assignee is not None and assignee != conversation.assignee
        if reassign and not await self._access.allows(str(assignee)):
            why = "Only members of the SMS inbox channel can be assigned."
            await ack(response_action="errors", errors={"assign": why})
            return
        await ack()
        if reassign:
            await self._desk.assign(conversation, str(assignee), by=user)
        status = selected(_value(values, "status", "status"))
        reason = str(_value(values, "reason", "reason").get("value") or "")
        current = await self._store.get_conversation(conversation.id) or conversation
        if status == "resolve":
            await self._desk.resolve(current, by=user)
        elif status == "reopen":
            await self._desk.reopen(current, by=user)
        elif status == "flag":
            await self._desk.flag(current, by=user, reason=reason)
        elif status == "unflag":
            await self._desk.unflag(current, by=user)
        if canned:
            command = Command(
                action=CANNED_SEND.name, name=str(canned), target=Target(number=conversation.id)
            )
            await self._commands.run(command, user)
