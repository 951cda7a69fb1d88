"""What the demo page's actions send, checked without a browser: the signed Slack
requests (commands, block actions, events) and Twilio webhooks that the page's server
produces, and what it does with the answers (ephemeral messages, `response_url`,
TwiML replies) — the parts no bridge feature exercises yet."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bridge.sandbox.demo_sample import load_people, load_scenarios
from bridge.sandbox.demo_scenarios import ScenarioPlayer
from bridge.sandbox.demo_slack_client import SlackClient
from bridge.sandbox.demo_web import DemoPage
from bridge.sandbox.demo_world import INBOX, PUBLIC_URL, Sandbox
from bridge.sandbox.recorder import LocalServer
from tests.support import bounded

SAM = "U0SAM"
MAYA = "+14155550142"


class Capture:
    """Stands in for the bridge: checks Slack's signature, records, answers as told."""

    def __init__(self, secret: str) -> None:
        self.verifier = SignatureVerifier(secret)
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.answers: dict[str, web.Response] = {}
        self.app = web.Application()
        self.app.router.add_post("/{path:.*}", self.handle)
        self.server = LocalServer(self.app)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        path = request.path
        if path == "/slack/events":
            assert self.verifier.is_valid_request(body, dict(request.headers)), "bad signature"
        if request.content_type == "application/json":
            data: dict[str, Any] = json.loads(body)
        else:
            data = dict(parse_qsl(body))
            if "payload" in data:
                data = json.loads(data["payload"])
        self.requests.append((path, data))
        return self.answers.pop(path, web.Response(status=200))

    def last(self, path: str) -> dict[str, Any]:
        return next(data for where, data in reversed(self.requests) if where == path)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[Sandbox, str, Capture]]:
    sandbox = Sandbox(load_people(), tmp_path)
    client = SlackClient(sandbox)
    player = ScenarioPlayer(sandbox, client, load_scenarios())
    page = DemoPage(sandbox, client, player)
    await sandbox.start()
    server = LocalServer(page.app)
    sandbox.page_url = await server.start()
    capture = Capture(sandbox.slack.signing_secret)
    capture_url = await capture.server.start()
    sandbox.bridge_url = capture_url  # Slack's deliveries go to the capture
    sandbox.twilio.route_webhooks(PUBLIC_URL, capture_url)  # and so do Twilio's
    yield sandbox, sandbox.page_url, capture
    await bounded(player.stop())
    sandbox.changes.close()
    await bounded(server.stop())
    await bounded(capture.server.stop())
    await bounded(sandbox.stop())


async def call(url: str, body: Any) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as answer:
        data: dict[str, Any] = await answer.json()
        return data | {"http": answer.status}


async def bot_post(sandbox: Sandbox, **args: Any) -> str:
    headers = {"Authorization": f"Bearer {sandbox.slack.token}"}
    url = f"{sandbox.slack.base_url}/api/chat.postMessage"
    async with aiohttp.ClientSession() as http, http.post(url, json=args, headers=headers) as r:
        return str((await r.json())["ts"])


async def test_a_button_click_is_a_signed_block_actions_payload_and_response_url_works(
    world: tuple[Sandbox, str, Capture],
) -> None:
    sandbox, page, capture = world
    parent = await bot_post(sandbox, channel=INBOX, text="SMS conversation #1")
    button = {
        "type": "button",
        "action_id": "draft_send",
        "value": "42",
        "text": {"type": "plain_text", "text": "Send"},
    }
    blocks = [{"type": "actions", "block_id": "draft_reply_1", "elements": [button]}]
    draft = await bot_post(sandbox, channel=INBOX, thread_ts=parent, text="draft", blocks=blocks)

    answer = await call(
        f"{page}/api/action",
        {"user": SAM, "message_ts": draft, "block_id": "draft_reply_1", "element": button},
    )
    assert answer == {"ok": True, "status": 200, "http": 200}
    payload = capture.last("/slack/events")
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == SAM
    assert payload["channel"]["id"] == INBOX
    assert payload["container"] == {
        "type": "message",
        "message_ts": draft,
        "channel_id": INBOX,
        "is_ephemeral": False,
        "thread_ts": parent,
    }
    assert payload["message"]["ts"] == draft
    [action] = payload["actions"]
    assert (action["action_id"], action["block_id"], action["value"]) == (
        "draft_send",
        "draft_reply_1",
        "42",
    )
    assert payload["response_url"].startswith(f"{page}/slack/response/")

    # The bridge answers on response_url: replace the card, then a note only Sam sees.
    replaced = await call(payload["response_url"], {"replace_original": True, "text": "Sent"})
    assert replaced["http"] == 200
    message = sandbox.slack.message(INBOX, draft)
    assert message is not None
    assert (message.text, message.blocks) == ("Sent", None)
    await call(payload["response_url"], {"text": "Only for you"})
    [note] = sandbox.slack.ephemerals
    assert (note.user, note.text, note.thread_ts) == (SAM, "Only for you", parent)


async def test_a_slash_command_is_the_signed_form_slack_sends(
    world: tuple[Sandbox, str, Capture],
) -> None:
    sandbox, page, capture = world
    usage = {"response_type": "ephemeral", "text": "Usage: /sms resolve <target>"}
    capture.answers["/slack/events"] = web.json_response(usage)

    answer = await call(f"{page}/api/command", {"user": SAM, "text": "/sms assign #3 @Jordan & co"})
    assert answer == {"ok": True, "status": 200, "http": 200}
    form = capture.last("/slack/events")
    assert form["command"] == "/sms"
    assert form["text"] == "assign #3 <@U0JORDAN|jordan> &amp; co"
    assert (form["user_id"], form["channel_id"]) == (SAM, INBOX)
    assert form["response_url"].startswith(f"{page}/slack/response/")
    # The immediate answer shows as an ephemeral message to the person who typed it.
    [note] = sandbox.slack.ephemerals
    assert (note.user, note.text) == (SAM, "Usage: /sms resolve <target>")
    # A later answer on response_url, for everyone in the channel.
    await call(form["response_url"], {"response_type": "in_channel", "text": "Resolved #3"})
    assert [m.text for m in sandbox.slack.messages(INBOX)] == ["Resolved #3"]


async def test_typed_messages_reach_the_bridge_as_slack_sends_them(
    world: tuple[Sandbox, str, Capture],
) -> None:
    sandbox, page, capture = world
    parent = await bot_post(sandbox, channel=INBOX, text="SMS conversation #1")
    typed = "Hi @Sam & @here, see https://harborstreet.example/cakes."
    await call(f"{page}/api/post", {"user": SAM, "text": typed, "thread_ts": parent})
    event = capture.last("/slack/events")["event"]
    expected = "Hi <@U0SAM> &amp; <!here>, see <https://harborstreet.example/cakes>."
    assert (event["type"], event["text"], event["thread_ts"]) == ("message", expected, parent)

    await call(f"{page}/api/react", {"user": SAM, "ts": parent, "name": "eyes"})
    assert capture.last("/slack/events")["event"]["type"] == "reaction_added"
    await call(f"{page}/api/react", {"user": SAM, "ts": parent, "name": "eyes"})
    assert capture.last("/slack/events")["event"]["type"] == "reaction_removed"
    await call(f"{page}/api/home", {"user": SAM})
    assert capture.last("/slack/events")["event"]["type"] == "app_home_opened"

    refused = await call(f"{page}/api/edit", {"user": SAM, "ts": parent, "text": "x"})
    assert refused == {"error": "only its author can change a message", "http": 400}


async def test_a_twiml_answer_is_texted_back_to_the_phone(
    world: tuple[Sandbox, str, Capture],
) -> None:
    sandbox, page, capture = world
    twiml = "<Response><Message>Harbor Street Bakery: call (415) 555-0188</Message></Response>"
    capture.answers["/sms/inbound"] = web.Response(text=twiml, content_type="text/xml")
    answer = await call(f"{page}/api/text", {"phone": MAYA, "body": "HELP"})
    assert answer["ok"] is True
    webhook = capture.last("/sms/inbound")
    assert (webhook["From"], webhook["Body"]) == (MAYA, "HELP")
    bubbles = [(e.direction, e.body, e.detail) for e in sandbox.phone_log if e.phone == MAYA]
    assert bubbles[-1] == ("received", "Harbor Street Bakery: call (415) 555-0188", "TwiML")


async def test_the_page_gets_the_state_live_and_refuses_cross_site_posts(
    world: tuple[Sandbox, str, Capture],
) -> None:
    _sandbox, page, _capture = world
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{page}/api/events") as live:
            first = await _frame(live)
            await call(f"{page}/api/phones", {"phone": "(415) 555-0177", "name": "Ann Lee"})
            second = await _frame(live)
        assert second["version"] > first["version"]
        assert {"phone": "+14155550177", "name": "Ann Lee"}.items() <= next(
            s for s in second["subscribers"] if s["phone"] == "+14155550177"
        ).items()
        # A form post (what another site could make a browser send) changes nothing.
        async with http.post(f"{page}/api/phones", data={"phone": "+14155550176"}) as r:
            assert r.status == 415


async def _frame(live: aiohttp.ClientResponse) -> dict[str, Any]:
    while True:
        line = (await live.content.readline()).decode()
        if line.startswith("data: "):
            state: dict[str, Any] = json.loads(line[6:])
            return state
