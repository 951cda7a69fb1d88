"""MMS media behind redirects: Twilio answers a media URL with a redirect to its storage,
and the bridge follows only hops it may (never to another host of the network)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bridge.sandbox.recorder import LocalServer
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.sms.media import TwilioMedia
from bridge.threading.attachments import MediaRejected
from tests.support import INBOX, PUBLIC_URL, BridgeUnderTest, eventually, parents, thread_texts

ANA = "+14155550123"


class Elsewhere:
    """Another service on this machine, which a media URL must never reach."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._serve)
        self.server = LocalServer(app)

    async def _serve(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        return web.Response(body=b"internal secrets", content_type="image/png")


@pytest.fixture
async def elsewhere() -> AsyncIterator[Elsewhere]:
    service = Elsewhere()
    await service.server.start()
    yield service
    await service.server.stop()


async def texts_media(bridge: BridgeUnderTest, twilio: TwilioEmulator, path: str) -> None:
    response = await twilio.send_inbound(
        f"{bridge.url}/sms/inbound",
        public_url=f"{PUBLIC_URL}/sms/inbound",
        from_=ANA,
        to="+14155550100",
        body="look",
        media=[(f"{twilio.base_url}{path}", "image/png")],
    )
    assert response.status == 200


async def test_a_redirect_to_another_host_is_refused_and_the_reason_shown(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, elsewhere: Elsewhere
) -> None:
    path = twilio.add_media_redirect("hop", f"{elsewhere.server.base_url}/admin/dump")
    await texts_media(bridge, twilio, path)
    await eventually(lambda: len(thread_texts(slack, "415-555-0123")) == 2)
    note = thread_texts(slack, "415-555-0123")[1]
    assert "not attached: redirected to 127.0.0.1" in note
    assert "not a Twilio media host" in note
    assert elsewhere.hits == []
    [parent] = parents(slack)
    assert not [m for m in slack.replies(INBOX, parent.ts) if m.files]


async def test_a_redirect_within_the_twilio_host_is_followed_with_credentials(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    stored = twilio.add_media("stored", "image/png", b"\x89PNG picture")
    path = twilio.add_media_redirect("hop", f"{twilio.base_url}{stored}")
    await texts_media(bridge, twilio, path)
    await eventually(lambda: any(f.length == 12 for f in slack._files.values()))
    assert [c.status for c in twilio.calls_to("media.fetch")] == [302, 200]


async def fetch_directly(twilio: TwilioEmulator, path: str, resolved: list[str]) -> None:
    async def resolve(_host: str, _port: int) -> list[str]:
        return resolved

    assert twilio.base_url is not None
    async with aiohttp.ClientSession() as session:
        media = TwilioMedia(
            session,
            api_url=twilio.base_url,
            account_sid=twilio.account_sid,
            auth_token=twilio.auth_token,
            resolve=resolve,
        )
        await media.fetch(f"{twilio.base_url}{path}")


@pytest.mark.parametrize(
    ("location", "resolved", "reason"),
    [
        # A Twilio media host, but one that points into the private network.
        ("https://mms.twiliocdn.com/x.png", ["10.0.0.7"], "resolves to a private address"),
        ("https://mms.twiliocdn.com/x.png", ["169.254.169.254"], "resolves to a private address"),
        ("https://mms.twiliocdn.com/x.png", ["8.8.8.8", "::1"], "resolves to a private address"),
        # Twilio's storage is reached over https only.
        ("http://mms.twiliocdn.com/x.png", ["8.8.8.8"], "not a Twilio media host"),
        ("https://mms.twiliocdn.com.attacker.example/x", ["8.8.8.8"], "not a Twilio media host"),
        (
            "https://169.254.169.254/latest/meta-data",
            ["169.254.169.254"],
            "not a Twilio media host",
        ),
    ],
)
async def test_a_hop_is_refused_by_host_scheme_or_address(
    twilio: TwilioEmulator, location: str, resolved: list[str], reason: str
) -> None:
    path = twilio.add_media_redirect("hop", location)
    with pytest.raises(MediaRejected, match=reason):
        await fetch_directly(twilio, path, resolved)


async def test_a_redirect_loop_ends_after_a_few_hops(twilio: TwilioEmulator) -> None:
    path = twilio.add_media_redirect("loop", f"{twilio.base_url}/media/loop")
    with pytest.raises(MediaRejected, match="too many redirects"):
        await fetch_directly(twilio, path, [])
    assert len(twilio.calls_to("media.fetch")) == 4  # the URL and three redirects
