"""The message shortcut "SMS actions" on any message of a conversation's thread (a
shortcut, unlike a slash command, knows its thread): one dialog to assign, resolve,
flag with a reason, or send a canned response after seeing it personalised."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bridge.models import Conversation, ConversationStatus
from bridge.mrkdwn import clip, escape
from bridge.phones import display
from bridge.slack.members import InboxMembers
from bridge.store.base import Store
from bridge.threading.command_desk import CommandDesk
from bridge.threading.commands import Action, Command, Target
from bridge.threading.lifecycle import ConversationDesk

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


def _value(values: dict[str, Any], block: str, action: str) -> dict[str, Any]:
    return dict((values.get(block) or {}).get(action) or {})


class SmsActionsShortcut:
    def __init__(
        self,
        store: Store,
        desk: ConversationDesk,
        commands: CommandDesk,
        members: InboxMembers,
    ) -> None:
        self._store = store
        self._desk = desk
        self._commands = commands
        self._members = members

    def register(self, app: AsyncApp) -> None:
        app.shortcut(SHORTCUT)(self.on_shortcut)
        app.action(CANNED_PICK)(self.on_pick)
        app.view(MODAL)(self.on_submit)

    async def _conversation_of(self, channel: str, message: dict[str, Any]) -> Conversation | None:
        for ts in (message.get("thread_ts"), message.get("ts")):
            if ts and (found := await self._store.find_conversation_by_thread(channel, ts)):
                return found
        stored = await self._store.get_message_by_slack_ts(channel, str(message.get("ts")))
        return await self._store.get_conversation(stored.conversation_id) if stored else None

    async def on_shortcut(
        self, ack: AsyncAck, shortcut: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        user = str(shortcut.get("user", {}).get("id", ""))
        channel = str(shortcut.get("channel", {}).get("id", ""))
        conversation = await self._conversation_of(channel, shortcut.get("message") or {})
        if conversation is None or not await self._members.allowed(user):
            why = (
                "Only members of the SMS inbox channel can do that."
                if conversation
                else "This message is not part of an SMS conversation."
            )
            view = {
                "type": "modal",
                "title": {"type": "plain_text", "text": "SMS actions"},
                "close": {"type": "plain_text", "text": "OK"},
                "blocks": [{"type": "section", "text": {"type": "plain_text", "text": why}}],
            }
        else:
            view = actions_modal(conversation, await self._store.list_canned())
        await client.views_open(trigger_id=shortcut["trigger_id"], view=view)

    async def on_pick(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        view = body.get("view") or {}
        conversation = await self._store.get_conversation(int(view.get("private_metadata", 0)))
        if conversation is None:
            return
        name = str((action.get("selected_option") or {}).get("value", ""))
        canned = await self._store.list_canned()
        preview = await self._commands.preview(name, conversation)
        await client.views_update(
            view_id=view["id"],
            hash=view.get("hash"),
            view=actions_modal(conversation, canned, escape(preview)),
        )

    async def on_submit(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = str(body.get("user", {}).get("id", ""))
        conversation = await self._store.get_conversation(int(view.get("private_metadata", 0)))
        if conversation is None or not await self._members.allowed(user):
            await ack()
            return
        values = view.get("state", {}).get("values", {})
        canned = (_value(values, "canned", CANNED_PICK).get("selected_option") or {}).get("value")
        if canned:
            # Checked first: a canned response that cannot go out keeps the dialog open.
            problem = await self._commands.canned_problem(str(canned), conversation)
            if problem is not None:
                await ack(response_action="errors", errors={"canned": problem})
                return
        await ack()
        assignee = _value(values, "assign", "user").get("selected_user")
        if assignee and assignee != conversation.assignee:
            await self._desk.assign(conversation, str(assignee), by=user)
        status = (_value(values, "status", "status").get("selected_option") or {}).get("value")
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
                action=Action.CANNED_SEND, name=str(canned), target=Target(number=conversation.id)
            )
            await self._commands.run(command, user)
