"""What the demo's agents do in their Slack client: post and edit in threads, delete,
react, type slash commands, click Block Kit buttons, submit dialogs, open the App Home.

Each becomes what Slack itself sends the bridge — a signed Events API request, a
slash-command form or an interactivity payload — and what the bridge answers (a
command's body, posts to `response_url`, `response_action`s) is shown as Slack would.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from bridge.sandbox.demo_world import INBOX, INBOX_NAME, TEAM_CHANNELS, Sandbox
from bridge.sandbox.recorder import WebhookResponse
from bridge.sandbox.slack_emulator import Ephemeral, Kind, SlackMessage

VERIFICATION_TOKEN = "sandbox-verification-token"  # noqa: S105 - Slack's legacy field, unused
MAX_RESPONSE_URLS = 1000


@dataclass
class CommandRecord:
    user: str
    command: str
    text: str
    at: float
    status: int | None = None
    body: str = ""

    @property
    def answer(self) -> str:
        """The text of the bridge's immediate answer (a JSON answer's `text`)."""
        return str(_response_body(self.body).get("text", "")) if self.body.strip() else ""


@dataclass(frozen=True)
class _ResponseTarget:
    """Where a `response_url` answer goes: who asked, where, and about which message."""

    user: str
    channel: str
    thread_ts: str | None = None
    message_ts: str | None = None
    ephemeral: bool = False


class SlackClient:
    """The Slack client of every agent in the demo (the page says who is acting)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self.slack = sandbox.slack
        self.changes = sandbox.changes
        self.people = sandbox.people
        self.commands: list[CommandRecord] = []
        self.modal_errors: dict[str, dict[str, str]] = {}  # user -> block_id -> error
        self._responses: dict[str, _ResponseTarget] = {}

    def _agent(self, user: str) -> str:
        for agent in self.people.agents:
            if agent.id == user:
                return agent.name
        raise ValueError(f"{user} is not an agent of this workspace")

    def where(self, ts: str) -> str:
        """The channel holding a message: the inbox, or a routing team's channel."""
        for channel in (INBOX, *TEAM_CHANNELS):
            if self.slack.message(channel, ts) is not None:
                return channel
        return INBOX

    def _own_message(self, user: str, ts: str) -> SlackMessage:
        message = self.slack.message(self.where(ts), ts)
        if message is None:
            raise ValueError("that message no longer exists")
        if message.user != user:
            raise ValueError("only its author can change a message")
        return message

    def typed(self, text: str, *, command: bool = False) -> str:
        """What the Slack client sends for what a person typed: `&`, `<` and `>` escaped,
        `@name` of a workspace member as a mention, and (in messages) bare links and
        `@here` marked up. Commands get mentions as `<@U…|name>`, like a slash command
        created with "escape channels, users and links" (`should_escape: true`)."""
        out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        names = sorted(
            (
                (name, agent)
                for agent in self.people.agents
                for name in {agent.name, agent.display_name, agent.real_name}
                if name
            ),
            key=lambda pair: -len(pair[0]),
        )
        for name, agent in names:
            mention = f"<@{agent.id}|{agent.name}>" if command else f"<@{agent.id}>"
            pattern = rf"(?<![\w@<])@{re.escape(name)}(?![\w])"
            out = re.sub(pattern, mention.replace("\\", "\\\\"), out, flags=re.IGNORECASE)
        if not command:
            out = re.sub(r"(?<![\w<])@(here|channel|everyone)\b", r"<!\1>", out)
            out = re.sub(r"(?<![<|\w])(https?://[^\s<>|]+[^\s<>|.,!?;:)])", r"<\1>", out)
        return out

    async def post(
        self, user: str, text: str, thread_ts: str | None = None, channel: str | None = None
    ) -> WebhookResponse:
        self._agent(user)
        if channel is not None and channel not in TEAM_CHANNELS:
            channel = INBOX  # the page only knows these channels
        channel = self.where(thread_ts) if thread_ts else channel or INBOX
        event = self.slack.user_posts(channel, user, self.typed(text), thread_ts=thread_ts)
        return await self._deliver(event)

    async def edit(self, user: str, ts: str, text: str) -> WebhookResponse:
        self._own_message(user, ts)
        return await self._deliver(self.slack.user_edits(self.where(ts), ts, self.typed(text)))

    async def delete(self, user: str, ts: str) -> WebhookResponse:
        self._own_message(user, ts)
        return await self._deliver(self.slack.user_deletes(self.where(ts), ts))

    async def react(self, user: str, ts: str, name: str) -> WebhookResponse:
        """Add the reaction, or take it back when this user already added it."""
        self._agent(user)
        channel = self.where(ts)
        message = self.slack.message(channel, ts)
        if message is None:
            raise ValueError("that message no longer exists")
        users = message.reactions.get(name, [])
        if user not in users:
            return await self._deliver(self.slack.user_reacts(channel, ts, user, name))
        users.remove(user)
        if not users:
            del message.reactions[name]
        event = {
            "type": "reaction_removed",
            "user": user,
            "reaction": name,
            "item_user": message.user,
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": _ts(),
        }
        return await self._deliver(event)

    async def command(self, user: str, line: str, thread_ts: str | None = None) -> CommandRecord:
        """A slash command typed in the channel (or a thread): the signed form Slack sends."""
        command, _, text = line.strip().partition(" ")
        if not re.fullmatch(r"/[a-z0-9_-]+", command):
            raise ValueError("a slash command starts with / and a name, like /sms help")
        channel = self.where(thread_ts) if thread_ts else INBOX
        target = _ResponseTarget(user=user, channel=channel, thread_ts=thread_ts)
        form = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.slack.team_id,
            "team_domain": "sandbox",
            "channel_id": channel,
            "channel_name": TEAM_CHANNELS.get(channel, INBOX_NAME),
            "user_id": user,
            "user_name": self._agent(user),
            "command": command,
            "text": self.typed(text.strip(), command=True),
            "api_app_id": self.slack.app_id,
            "is_enterprise_install": "false",
            "response_url": self._response_url(target),
            "trigger_id": self.slack.trigger(user),  # good for one views.open
        }
        record = CommandRecord(user, command, text.strip(), time.time())
        self.commands.append(record)
        answer = await self._deliver(form, "command")
        record.status, record.body = answer.status, answer.text
        if answer.status == 200 and answer.text.strip():
            await self.respond_to(target, _response_body(answer.text))
        self.changes.bump()
        return record

    async def action(
        self,
        user: str,
        *,
        message_ts: str = "",
        block_id: str,
        element: Mapping[str, Any],
        ephemeral: bool = False,
        home: bool = False,
        selected: Mapping[str, Any] | None = None,
    ) -> WebhookResponse:
        """A click on a Block Kit element (in a message, an ephemeral message or the App
        Home): the signed `block_actions` payload Slack sends."""
        name = self._agent(user)
        action: dict[str, Any] = {
            "type": str(element.get("type", "button")),
            "action_id": str(element.get("action_id", "")),
            "block_id": block_id,
            "action_ts": _ts(),
        }
        for key in ("text", "value", "style"):
            if key in element:
                action[key] = element[key]
        if selected is not None:
            action["selected_option"] = dict(selected)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "username": name, "name": name, "team_id": self.slack.team_id},
            "api_app_id": self.slack.app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self.slack.trigger(user),  # good for one views.open
            "team": {"id": self.slack.team_id, "domain": "sandbox"},
            "enterprise": None,
            "is_enterprise_install": False,
            "state": {"values": {}},
            "actions": [action],
        }
        if home:
            view = self.slack.home_views.get(user)
            if view is None:
                raise ValueError("there is no Home tab to click in")
            payload |= {"container": {"type": "view", "view_id": view["id"]}, "view": view}
            return await self._deliver(payload, "interactive")
        thread_ts = self._clicked(message_ts, ephemeral, payload)
        channel = self.where(thread_ts or message_ts)
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        }
        if thread_ts is not None:
            container["thread_ts"] = thread_ts
        target = _ResponseTarget(user, channel, thread_ts, message_ts, ephemeral)
        payload |= {
            "container": container,
            "channel": {"id": channel, "name": TEAM_CHANNELS.get(channel, INBOX_NAME)},
            "response_url": self._response_url(target),
        }
        return await self._deliver(payload, "interactive")

    def _clicked(self, message_ts: str, ephemeral: bool, payload: dict[str, Any]) -> str | None:
        """The thread of the message clicked in; a shared message goes in the payload."""
        if ephemeral:
            found = next((e for e in self.slack.ephemerals if e.ts == message_ts), None)
            if found is None:
                raise ValueError("that message is gone")
            return found.thread_ts
        message = self.slack.message(self.where(message_ts), message_ts)
        if message is None:
            raise ValueError("that message is gone")
        payload["message"] = message.to_api(self.slack.team_id, self.slack.app_id)
        return message.thread_ts

    async def submit_view(
        self, user: str, values: Mapping[str, Mapping[str, str]]
    ) -> WebhookResponse:
        """The agent submits the modal open for them: Slack's `view_submission`, with the
        inputs' state; the app's answer may keep it open with errors, or replace it."""
        name = self._agent(user)
        view = self.slack.modals.get(user)
        if view is None:
            raise ValueError("no dialog is open")
        payload = {
            "type": "view_submission",
            "team": {"id": self.slack.team_id, "domain": "sandbox"},
            "user": {"id": user, "username": name, "name": name, "team_id": self.slack.team_id},
            "api_app_id": self.slack.app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self.slack.trigger(user),
            "view": {**view, "state": {"values": view_state(view, values)}},
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        answer = await self._deliver(payload, "interactive")
        if answer.status != 200:
            return answer
        body = _response_body(answer.text) if answer.text.strip() else {}
        action = body.get("response_action")
        if action == "errors" and isinstance(body.get("errors"), dict):
            self.modal_errors[user] = {str(k): str(v) for k, v in body["errors"].items()}
        elif action in {"update", "push"} and isinstance(body.get("view"), dict):
            self.slack.modals[user] = {**body["view"], "id": view["id"]}
            self.modal_errors.pop(user, None)
        else:  # an empty 200, or "clear": the dialog closes
            self.slack.modals.pop(user, None)
            self.modal_errors.pop(user, None)
        self.changes.bump()
        return answer

    async def close_view(self, user: str) -> WebhookResponse | None:
        """The agent closes their modal; Slack tells the app only if it asked to know."""
        name = self._agent(user)
        view = self.slack.modals.pop(user, None)
        self.modal_errors.pop(user, None)
        self.changes.bump()
        if view is None or not view.get("notify_on_close"):
            return None
        payload = {
            "type": "view_closed",
            "team": {"id": self.slack.team_id, "domain": "sandbox"},
            "user": {"id": user, "username": name, "name": name, "team_id": self.slack.team_id},
            "api_app_id": self.slack.app_id,
            "token": VERIFICATION_TOKEN,
            "view": view,
            "is_cleared": False,
        }
        return await self._deliver(payload, "interactive")

    async def open_home(self, user: str) -> WebhookResponse:
        """The agent opens the app's Home tab: Slack sends `app_home_opened`."""
        self._agent(user)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user,
            "channel": "D" + user[1:],
            "tab": "home",
            "event_ts": _ts(),
        }
        if user in self.slack.home_views:
            event["view"] = self.slack.home_views[user]
        return await self._deliver(event)

    async def _deliver(self, payload: Mapping[str, Any], kind: Kind = "event") -> WebhookResponse:
        self.changes.bump()  # the agent's own message shows before the bridge answers
        try:
            url = f"{self._sandbox.bridge_url}/slack/events"
            return await self.slack.deliver(url, payload, kind)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return WebhookResponse(0, f"the bridge did not answer: {exc!r}")
        finally:
            self.changes.bump()

    # -- response_url: what the bridge posts back about a command or a click ------------

    def _response_url(self, target: _ResponseTarget) -> str:
        key = secrets.token_urlsafe(12)
        self._responses[key] = target
        while len(self._responses) > MAX_RESPONSE_URLS:  # Slack's expire too
            del self._responses[next(iter(self._responses))]
        return f"{self._sandbox.page_url}/slack/response/{key}"

    async def respond(self, key: str, body: Mapping[str, Any]) -> bool:
        target = self._responses.get(key)
        if target is None:
            return False
        await self.respond_to(target, body)
        return True

    async def respond_to(self, target: _ResponseTarget, body: Mapping[str, Any]) -> None:
        """Slack's rules: delete or replace the message the click came from, post in the
        channel for `in_channel`, else an ephemeral message to the person who asked."""
        text, blocks = str(body.get("text", "")), body.get("blocks")
        if target.message_ts and (body.get("delete_original") or body.get("replace_original")):
            self._replace(target, text, blocks, delete=bool(body.get("delete_original")))
        elif body.get("response_type") == "in_channel":
            await self._post_as_app(target, text, blocks)
        elif text or blocks:
            self.slack.ephemerals.append(
                Ephemeral(target.channel, target.user, text, _ts(), target.thread_ts, blocks)
            )
        self.changes.bump()

    def _replace(self, target: _ResponseTarget, text: str, blocks: Any, *, delete: bool) -> None:
        assert target.message_ts is not None
        if target.ephemeral:
            kept = [e for e in self.slack.ephemerals if e.ts != target.message_ts]
            if not delete:
                kept.append(
                    Ephemeral(target.channel, target.user, text, _ts(), target.thread_ts, blocks)
                )
            self.slack.ephemerals[:] = kept
            return
        message = self.slack.message(target.channel, target.message_ts)
        if message is None:
            return
        if delete:
            self.slack.delete_message(target.channel, message.ts)
        else:
            message.text, message.blocks = text, blocks
            message.edited = {"user": message.user, "ts": _ts()}

    async def _post_as_app(self, target: _ResponseTarget, text: str, blocks: Any) -> None:
        args: dict[str, Any] = {"channel": target.channel, "text": text}
        if blocks:
            args["blocks"] = blocks
        if target.thread_ts:
            args["thread_ts"] = target.thread_ts
        headers = {"Authorization": f"Bearer {self.slack.token}"}
        url = f"{self.slack.base_url}/api/chat.postMessage"
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, json=args, headers=headers) as answer,
        ):
            await answer.read()


def view_state(view: Mapping[str, Any], values: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """`view.state.values` as Slack builds it from what was typed or picked in each input."""
    state: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        element = block.get("element") if block.get("type") == "input" else None
        if not isinstance(element, dict) or "action_id" not in element:
            continue
        kind = str(element.get("type", ""))
        given = values.get(str(block.get("block_id", "")), {}).get(str(element["action_id"]))
        entry: dict[str, Any] = {"type": kind}
        if kind in {"static_select", "radio_buttons", "external_select"}:
            options = element.get("options") or [
                option
                for group in element.get("option_groups") or []
                for option in group["options"]
            ]
            entry["selected_option"] = next(
                (option for option in options if option.get("value") == given), None
            )
        elif kind in {"users_select", "conversations_select", "channels_select"}:
            key = {"users_select": "selected_user", "channels_select": "selected_channel"}
            entry[key.get(kind, "selected_conversation")] = given or None
        elif kind == "datepicker":
            entry["selected_date"] = given or None
        else:  # plain_text_input and anything typed
            entry["value"] = given or None
        state.setdefault(str(block.get("block_id", "")), {})[str(element["action_id"])] = entry
    return state


def _response_body(raw: str) -> dict[str, Any]:
    """A command's immediate answer: JSON as Bolt sends it, or plain text."""
    try:
        body = json.loads(raw)
    except json.JSONDecodeError:
        return {"text": raw}
    return body if isinstance(body, dict) else {"text": raw}


def _ts() -> str:
    return f"{time.time():.6f}"
