"""The sandbox emulators, driven by the real slack_sdk and twilio clients."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from tests.support import bounded

INBOX = "C0INBOX"
AGENT = "U0AGENT"
SUBSCRIBER = "+14155550123"
BUSINESS = "+14155550100"
PUBLIC = "https://sms.example.com"

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


# -- Slack -------------------------------------------------------------------------------


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    emulator = SlackEmulator(token="xoxb-test", signing_secret="shh")
    emulator.add_channel(INBOX, "sms-inbox")
    emulator.add_user(AGENT, "ana", "Ana Agent", "ana")
    await emulator.start()
    yield emulator
    await bounded(emulator.stop())


def web_client(slack: SlackEmulator, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=slack.token, base_url=f"{slack.base_url}/api/", **kwargs)


async def test_auth_test_names_the_bot(slack: SlackEmulator) -> None:
    answer = await web_client(slack).auth_test()

    assert answer["user_id"] == slack.bot_user_id
    assert answer["bot_id"] == slack.bot_id
    assert answer["team_id"] == slack.team_id
    assert answer["url"].startswith("https://")


async def test_wrong_or_missing_token_is_refused(slack: SlackEmulator) -> None:
    base_url = f"{slack.base_url}/api/"
    with pytest.raises(SlackApiError) as wrong:
        await AsyncWebClient(token="xoxb-wrong", base_url=base_url).auth_test()
    with pytest.raises(SlackApiError) as missing:
        await AsyncWebClient(base_url=base_url).auth_test()

    assert wrong.value.response["error"] == "invalid_auth"
    assert missing.value.response["error"] == "not_authed"


async def test_parent_and_replies_form_a_thread(slack: SlackEmulator) -> None:
    client = web_client(slack)
    parent = await client.chat_postMessage(channel=INBOX, text="New conversation #1")
    first = await client.chat_postMessage(channel=INBOX, text="hi", thread_ts=parent["ts"])
    second = await client.chat_postMessage(channel="#sms-inbox", text="?", thread_ts=parent["ts"])

    assert parent["channel"] == INBOX
    assert parent["ts"] < first["ts"] < second["ts"]
    assert first["message"]["thread_ts"] == parent["ts"]
    assert first["message"]["bot_id"] == slack.bot_id
    assert [m.text for m in slack.messages(INBOX)] == ["New conversation #1"]
    assert [m.text for m in slack.replies(INBOX, parent["ts"])] == ["hi", "?"]
    root = slack.message(INBOX, parent["ts"])
    assert root is not None
    assert root.reply_count == 2


async def test_text_is_stored_exactly_as_sent(slack: SlackEmulator) -> None:
    escaped = "5 &lt; 6 &amp; <!channel> stays escaped"
    sent = await web_client(slack).chat_postMessage(channel=INBOX, text=escaped)

    stored = slack.message(INBOX, sent["ts"])
    assert stored is not None
    assert stored.text == escaped


async def test_form_encoded_calls_are_read_like_json_ones(slack: SlackEmulator) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}]
    answer = await web_client(slack).api_call(
        "chat.postMessage", data={"channel": INBOX, "text": "hello", "blocks": json.dumps(blocks)}
    )

    stored = slack.message(INBOX, answer["ts"])
    assert stored is not None
    assert stored.blocks == blocks
    assert slack.calls_to("chat.postMessage")[0].args["channel"] == INBOX


async def test_reply_to_a_missing_or_deleted_parent_is_thread_not_found(
    slack: SlackEmulator,
) -> None:
    client = web_client(slack)
    parent = await client.chat_postMessage(channel=INBOX, text="parent")
    slack.delete_message(INBOX, parent["ts"])

    for thread_ts in (parent["ts"], "1600000000.000100"):
        with pytest.raises(SlackApiError) as refused:
            await client.chat_postMessage(channel=INBOX, text="reply", thread_ts=thread_ts)
        assert refused.value.response["error"] == "thread_not_found"
    assert slack.messages(INBOX) == []


async def test_update_and_delete(slack: SlackEmulator) -> None:
    client = web_client(slack)
    blocks = [{"type": "section", "text": {"type": "plain_text", "text": "open"}}]
    posted = await client.chat_postMessage(channel=INBOX, text="open", blocks=blocks)

    updated = await client.chat_update(channel=INBOX, ts=posted["ts"], text="resolved")
    stored = slack.message(INBOX, posted["ts"])
    assert stored is not None
    assert (updated["text"], stored.text, stored.blocks) == ("resolved", "resolved", blocks)
    assert stored.edited is not None

    await client.chat_delete(channel=INBOX, ts=posted["ts"])
    assert slack.message(INBOX, posted["ts"]) is None
    with pytest.raises(SlackApiError) as gone:
        await client.chat_update(channel=INBOX, ts=posted["ts"], text="again")
    assert gone.value.response["error"] == "message_not_found"


async def test_channel_errors_and_unknown_methods(slack: SlackEmulator) -> None:
    client = web_client(slack)
    slack.add_channel("C0OLD", "old")
    slack.archive_channel("C0OLD")

    errors = []
    for call in (
        client.chat_postMessage(channel="C0NOPE", text="x"),
        client.chat_postMessage(channel="C0OLD", text="x"),
        client.api_call("chat.frobnicate"),
    ):
        with pytest.raises(SlackApiError) as refused:
            await call
        errors.append(refused.value.response["error"])

    assert errors == ["channel_not_found", "is_archived", "unknown_method"]
    assert all(call.failed for call in slack.calls)


async def test_reactions_users_channels_ephemerals_and_home(slack: SlackEmulator) -> None:
    client = web_client(slack)
    posted = await client.chat_postMessage(channel=INBOX, text="x")
    await client.reactions_add(channel=INBOX, name="eyes", timestamp=posted["ts"])
    with pytest.raises(SlackApiError) as twice:
        await client.reactions_add(channel=INBOX, name="eyes", timestamp=posted["ts"])
    message = slack.message(INBOX, posted["ts"])
    assert message is not None
    assert message.reactions == {"eyes": [slack.bot_user_id]}
    assert twice.value.response["error"] == "already_reacted"
    await client.reactions_remove(channel=INBOX, name="eyes", timestamp=posted["ts"])
    assert message.reactions == {}

    user = await client.users_info(user=AGENT)
    assert user["user"]["profile"]["display_name"] == "ana"
    channel = await client.conversations_info(channel=INBOX)
    assert channel["channel"]["name"] == "sms-inbox"

    await client.chat_postEphemeral(channel=INBOX, user=AGENT, text="Blocked", thread_ts="1.2")
    assert [(e.user, e.text) for e in slack.ephemerals] == [(AGENT, "Blocked")]

    view = {"type": "home", "blocks": []}
    first = await client.views_publish(user_id=AGENT, view=view)
    await client.views_publish(user_id=AGENT, view=view, hash=first["view"]["hash"])
    with pytest.raises(SlackApiError) as stale:
        await client.views_publish(user_id=AGENT, view=view, hash=first["view"]["hash"])
    assert stale.value.response["error"] == "hash_conflict"


async def test_files_upload_v2_goes_through_the_upload_url(slack: SlackEmulator) -> None:
    client = web_client(slack)
    parent = await client.chat_postMessage(channel=INBOX, text="parent")

    done = await client.files_upload_v2(
        channel=INBOX,
        thread_ts=parent["ts"],
        filename="photo.png",
        content=b"\x89PNG...",
        initial_comment="MMS photo",
    )

    uploaded = slack.file(done["file"]["id"])
    assert uploaded is not None
    assert uploaded.data == b"\x89PNG..."
    [reply] = slack.replies(INBOX, parent["ts"])
    assert (reply.text, reply.files[0]["mimetype"]) == ("MMS photo", "image/png")


async def test_rate_limit_answers_429_per_channel(slack: SlackEmulator) -> None:
    slack.rate_limit("chat.postMessage", per_second=1, per_channel=True)
    slack.add_channel("C0OTHER", "other")
    client = web_client(slack)
    await client.chat_postMessage(channel=INBOX, text="1")

    with pytest.raises(SlackApiError) as limited:
        await client.chat_postMessage(channel=INBOX, text="2")
    await client.chat_postMessage(channel="C0OTHER", text="other channel, own budget")

    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "1"
    assert limited.value.response["error"] == "ratelimited"
    assert slack.rate_limited == 1
    assert [m.text for m in slack.messages(INBOX)] == ["1"]


async def test_retry_handler_waits_out_the_429(slack: SlackEmulator) -> None:
    slack.rate_limit("chat.postMessage", per_second=1, per_channel=True)
    client = web_client(slack, retry_handlers=[AsyncRateLimitErrorRetryHandler()])

    await client.chat_postMessage(channel=INBOX, text="1")
    await client.chat_postMessage(channel=INBOX, text="2")

    assert [c.status for c in slack.calls_to("chat.postMessage")] == [200, 429, 200]
    assert [m.text for m in slack.messages(INBOX)] == ["1", "2"]


async def test_injected_failures_change_nothing(slack: SlackEmulator) -> None:
    client = web_client(slack)
    slack.fail("chat.postMessage", status=500, times=1)
    slack.fail("chat.update", status=429, retry_after=7)

    with pytest.raises(SlackApiError) as server_error:
        await client.chat_postMessage(channel=INBOX, text="lost?")
    with pytest.raises(SlackApiError) as throttled:
        await client.chat_update(channel=INBOX, ts="1.1", text="x")
    await client.chat_postMessage(channel=INBOX, text="after")

    assert server_error.value.response.status_code == 500
    assert server_error.value.response["error"] == "internal_error"
    assert throttled.value.response.headers["Retry-After"] == "7"
    assert [m.text for m in slack.messages(INBOX)] == ["after"]
    assert [c.failed for c in slack.calls] == [True, True, False]


async def test_failure_window_until_cleared(slack: SlackEmulator) -> None:
    client = web_client(slack)
    slack.fail_for("*", seconds=60, status=503)

    for _ in range(2):
        with pytest.raises(SlackApiError):
            await client.auth_test()
    slack.clear_failures()

    assert (await client.auth_test())["ok"] is True


async def test_user_events_record_state_and_deliver_signed(
    slack: SlackEmulator, aiohttp_server: ServerFactory
) -> None:
    received: list[tuple[dict[str, str], str]] = []
    verifier = SignatureVerifier("shh")

    async def bridge(request: web.Request) -> web.Response:
        body = await request.text()
        received.append((dict(request.headers), body))
        ok = verifier.is_valid_request(body, dict(request.headers))
        return web.Response(status=200 if ok else 401, text="ok" if ok else "bad")

    app = web.Application()
    app.router.add_post("/slack/events", bridge)
    url = str((await aiohttp_server(app)).make_url("/slack/events"))
    parent = await web_client(slack).chat_postMessage(channel=INBOX, text="parent")

    event = slack.user_posts(INBOX, AGENT, "Sure, 10am works", thread_ts=parent["ts"])
    envelope = slack.envelope(event)
    first = await slack.deliver(url, envelope)
    retry = await slack.deliver(url, envelope, retry_num=1)
    command = await slack.deliver(url, {"command": "/sms", "text": "help"}, kind="command")
    click = await slack.deliver(url, {"type": "block_actions", "actions": []}, kind="interactive")
    stale = await slack.deliver(url, event, timestamp=int(time.time()) - 301)

    assert [r.status for r in (first, retry, command, click, stale)] == [200] * 4 + [401]
    assert [m.text for m in slack.replies(INBOX, parent["ts"])] == ["Sure, 10am works"]
    assert event["thread_ts"] == parent["ts"]
    assert event["parent_user_id"] == slack.bot_user_id
    sent = json.loads(received[0][1])
    assert sent["event_id"].startswith("Ev")
    assert (sent["type"], sent["team_id"], sent["event"]) == ("event_callback", "T0SANDBOX", event)
    assert received[1][1] == received[0][1]
    assert received[1][0]["X-Slack-Retry-Num"] == "1"
    assert parse_qs(received[2][1])["command"] == ["/sms"]
    assert json.loads(parse_qs(received[3][1])["payload"][0])["type"] == "block_actions"


async def test_user_reaction_event_records_the_reaction(slack: SlackEmulator) -> None:
    parent = await web_client(slack).chat_postMessage(channel=INBOX, text="parent")

    event = slack.user_reacts(INBOX, parent["ts"], AGENT, "white_check_mark")

    assert event["item"] == {"type": "message", "channel": INBOX, "ts": parent["ts"]}
    assert event["item_user"] == slack.bot_user_id
    message = slack.message(INBOX, parent["ts"])
    assert message is not None
    assert message.reactions == {"white_check_mark": [AGENT]}


# -- Twilio ------------------------------------------------------------------------------

ACCOUNT = "AC" + "1" * 32
TOKEN = "auth-token"


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioEmulator]:
    emulator = TwilioEmulator(ACCOUNT, TOKEN)
    await emulator.start()
    yield emulator
    await bounded(emulator.stop())


@pytest.fixture
async def rest(twilio: TwilioEmulator) -> AsyncIterator[Client]:
    http = AsyncTwilioHttpClient()
    client = Client(ACCOUNT, TOKEN, http_client=http)
    client.api.base_url = twilio.base_url
    yield client
    await bounded(http.close())


@pytest.fixture
async def receiver(
    aiohttp_server: ServerFactory,
) -> tuple[str, list[tuple[str, dict[str, str], bool]]]:
    """A stand-in bridge that checks signatures against the public URL, as it must."""
    seen: list[tuple[str, dict[str, str], bool]] = []
    validator = RequestValidator(TOKEN)

    async def hook(request: web.Request) -> web.Response:
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        public_url = PUBLIC + request.path_qs
        valid = validator.validate(public_url, form, request.headers["X-Twilio-Signature"])
        seen.append((request.path, form, valid))
        return web.Response(text="<Response/>", content_type="text/xml")

    app = web.Application()
    app.router.add_post("/sms/{kind}", hook)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/"), seen


async def test_send_sms_returns_a_twilio_message(twilio: TwilioEmulator, rest: Client) -> None:
    message = await rest.messages.create_async(
        to=SUBSCRIBER, from_=BUSINESS, body="Hi there", status_callback=f"{PUBLIC}/sms/status"
    )
    via_service = await rest.messages.create_async(
        to=SUBSCRIBER, messaging_service_sid="MG" + "2" * 32, body="ą" * 71
    )

    assert message.sid.startswith("SM")
    assert len(message.sid) == 34
    assert (message.status, message.to, message.from_, message.body) == (
        "queued",
        SUBSCRIBER,
        BUSINESS,
        "Hi there",
    )
    assert message.date_created is not None
    assert (via_service.status, via_service.num_segments) == ("accepted", "2")
    [first, _] = twilio.sent_to(SUBSCRIBER)
    assert (first.sid, first.status_callback) == (message.sid, f"{PUBLIC}/sms/status")


@pytest.mark.parametrize(
    ("to", "body", "code"),
    [
        ("", "x", 21604),
        (SUBSCRIBER, "", 21602),
        ("555-0123", "x", 21211),
        ("+14155550999", "x", 21610),
    ],
)
async def test_invalid_sends_raise_twilio_codes(
    twilio: TwilioEmulator, rest: Client, to: str, body: str, code: int
) -> None:
    twilio.opt_out("+14155550999")

    with pytest.raises(TwilioRestException) as refused:
        await rest.messages.create_async(to=to, from_=BUSINESS, body=body)

    assert (refused.value.status, refused.value.code) == (400, code)
    assert twilio.sent == []


async def test_wrong_credentials_get_401(twilio: TwilioEmulator) -> None:
    http = AsyncTwilioHttpClient()
    client = Client(ACCOUNT, "wrong", http_client=http)
    client.api.base_url = twilio.base_url
    try:
        with pytest.raises(TwilioRestException) as refused:
            await client.api.account.fetch_async()
    finally:
        await http.close()

    assert (refused.value.status, refused.value.code) == (401, 20003)


async def test_account_and_incoming_numbers(twilio: TwilioEmulator, rest: Client) -> None:
    sids = [twilio.add_number(f"+1415555010{i}") for i in range(3)]

    account = await rest.api.account.fetch_async()
    everything = await rest.incoming_phone_numbers.list_async(page_size=2)
    [mine] = await rest.incoming_phone_numbers.list_async(phone_number=BUSINESS)
    updated = await rest.incoming_phone_numbers(mine.sid).update_async(
        sms_url=f"{PUBLIC}/sms/inbound", sms_method="POST"
    )

    assert (account.sid, account.status) == (ACCOUNT, "active")
    assert [n.sid for n in everything] == sids  # read across two pages
    assert updated.sms_url == f"{PUBLIC}/sms/inbound"
    assert twilio.numbers[mine.sid].sms_url == f"{PUBLIC}/sms/inbound"


async def test_injected_failures_and_delay(twilio: TwilioEmulator, rest: Client) -> None:
    twilio.fail(status=500, times=1)
    twilio.fail(status=429, endpoint="accounts.fetch", retry_after=2)

    with pytest.raises(TwilioRestException) as server_error:
        await rest.messages.create_async(to=SUBSCRIBER, from_=BUSINESS, body="x")
    with pytest.raises(TwilioRestException) as throttled:
        await rest.api.account.fetch_async()
    twilio.delay_seconds = 0.2
    started = time.monotonic()
    await rest.messages.create_async(to=SUBSCRIBER, from_=BUSINESS, body="x")

    assert time.monotonic() - started >= 0.2
    assert (server_error.value.status, server_error.value.code) == (500, 20500)
    assert (throttled.value.status, throttled.value.code) == (429, 20429)
    assert len(twilio.sent) == 1
    assert [c.failed for c in twilio.calls] == [True, True, False]


async def test_status_callbacks_arrive_signed_for_the_public_url(
    rest: Client, receiver: tuple[str, list[tuple[str, dict[str, str], bool]]]
) -> None:
    local, seen = receiver
    twilio = TwilioEmulator(ACCOUNT, TOKEN, auto_status=("sent", "delivered"))
    twilio.route_webhooks(PUBLIC, local)
    rest.api.base_url = await twilio.start()
    try:
        message = await rest.messages.create_async(
            to=SUBSCRIBER, from_=BUSINESS, body="x", status_callback=f"{PUBLIC}/sms/status"
        )
        await twilio.settle()
        await twilio.send_status(message.sid, "undelivered", error_code=30003)
    finally:
        await twilio.stop()

    assert [(path, form["MessageStatus"], valid) for path, form, valid in seen] == [
        ("/sms/status", "sent", True),
        ("/sms/status", "delivered", True),
        ("/sms/status", "undelivered", True),
    ]
    assert seen[2][1]["ErrorCode"] == "30003"
    assert "ErrorCode" not in seen[1][1]
    assert twilio.message(message.sid).status == "undelivered"
    assert [c.status for c in twilio.status_callbacks] == [200, 200, 200]


async def test_inbound_sms_is_signed_for_the_public_url(
    twilio: TwilioEmulator,
    rest: Client,
    receiver: tuple[str, list[tuple[str, dict[str, str], bool]]],
) -> None:
    local, seen = receiver
    photo = f"{twilio.base_url}" + twilio.add_media("p1", "image/jpeg", b"jpeg")

    answer = await twilio.send_inbound(
        f"{local}/sms/inbound",
        public_url=f"{PUBLIC}/sms/inbound",
        from_=SUBSCRIBER,
        to=BUSINESS,
        body="Do you have rye?",
        media=[(photo, "image/jpeg")],
    )

    assert (answer.status, answer.text) == (200, "<Response/>")
    [(_, form, valid)] = seen
    assert valid
    assert form["MessageSid"] == form["SmsSid"]
    assert (form["From"], form["To"], form["Body"]) == (SUBSCRIBER, BUSINESS, "Do you have rye?")
    assert (form["NumMedia"], form["MediaContentType0"], form["FromCountry"]) == (
        "1",
        "image/jpeg",
        "US",
    )
    async with aiohttp.ClientSession() as session:
        auth = {"Authorization": aiohttp.encode_basic_auth(ACCOUNT, TOKEN)}
        async with session.get(form["MediaUrl0"], headers=auth) as media:
            assert await media.read() == b"jpeg"
        async with session.get(form["MediaUrl0"]) as anonymous:
            assert anonymous.status == 401


async def test_forged_signature_and_stop_texted_to_a_number(
    twilio: TwilioEmulator,
    rest: Client,
    receiver: tuple[str, list[tuple[str, dict[str, str], bool]]],
) -> None:
    local, seen = receiver
    params = {"From": SUBSCRIBER, "Body": "hi"}
    forged = twilio.sign(f"{PUBLIC}/sms/other", params)
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{local}/sms/inbound", data=params, headers={"X-Twilio-Signature": forged}),
    ):
        pass
    twilio.route_webhooks(PUBLIC, local)
    twilio.add_number(BUSINESS, sms_url=f"{PUBLIC}/sms/inbound")
    await twilio.text(SUBSCRIBER, BUSINESS, "stop")

    assert [(path, valid) for path, _, valid in seen] == [
        ("/sms/inbound", False),
        ("/sms/inbound", True),
    ]
    assert SUBSCRIBER in twilio.blocked
    with pytest.raises(TwilioRestException) as refused:
        await rest.messages.create_async(to=SUBSCRIBER, from_=BUSINESS, body="come back")
    assert refused.value.code == 21610
