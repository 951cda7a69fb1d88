"""The inbound path through the real bridge app, the real slack_sdk client and the
project's Slack and Twilio emulators."""

from __future__ import annotations

import aiohttp

from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from tests.support import (
    INBOX,
    PUBLIC_URL,
    BridgeUnderTest,
    eventually,
    parents,
    shown_texts,
    thread_texts,
)

ANA = "+14155550123"
BEN = "+14155550124"


async def test_first_text_opens_a_thread_and_later_texts_join_it(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    response = await bridge.text(ANA, "Hi, are you open today?")
    assert response.status == 200
    assert "<Response/>" in response.text
    await bridge.text(ANA, "And tomorrow?")
    await eventually(lambda: len(thread_texts(slack, "415-555-0123")) == 2)

    [parent] = parents(slack)
    assert "#1" in parent.text
    assert "+1 415-555-0123" in str(parent.blocks)
    assert thread_texts(slack, "415-555-0123") == ["Hi, are you open today?", "And tomorrow?"]


async def test_another_number_gets_another_thread(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    await bridge.text(ANA, "one")
    await bridge.text(BEN, "two")
    await eventually(lambda: len(parents(slack)) == 2)
    # Two conversations post independently: either may land first.
    await eventually(lambda: thread_texts(slack, "415-555-0124") == ["two"])
    await eventually(lambda: thread_texts(slack, "415-555-0123") == ["one"])


async def test_a_repeated_message_sid_is_posted_once(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    sid = "SM" + "a" * 32
    first = await bridge.text(ANA, "only once", sid=sid)
    second = await bridge.text(ANA, "only once", sid=sid)
    assert (first.status, second.status) == (200, 200)
    await eventually(lambda: thread_texts(slack, "415-555-0123") == ["only once"])
    await bridge.text(ANA, "next")  # lane order: once this lands, a duplicate would have too
    await eventually(lambda: len(thread_texts(slack, "415-555-0123")) == 2)
    assert thread_texts(slack, "415-555-0123") == ["only once", "next"]


async def test_sms_markup_is_escaped_so_it_mentions_nobody(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    await bridge.text(ANA, "<!channel> <@U1> <https://x|y> & ünïcødé 🎉")
    await eventually(lambda: len(thread_texts(slack, "415-555-0123")) == 1)
    [text] = thread_texts(slack, "415-555-0123")
    assert text == "&lt;!channel&gt; &lt;@U1&gt; &lt;https://x|y&gt; &amp; ünïcødé 🎉"
    post = next(c for c in slack.calls_to("chat.postMessage") if "thread_ts" in c.args)
    assert post.args["unfurl_links"] is False


async def test_bad_or_missing_signature_is_403_and_nothing_happens(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    form = {"MessageSid": "SM" + "b" * 32, "From": ANA, "To": "+14155550100", "Body": "hi"}
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"X-Twilio-Signature": "forged"}):
            async with http.post(f"{bridge.url}/sms/inbound", data=form, headers=headers) as r:
                assert r.status == 403
        # Signed for another URL (not BRIDGE_PUBLIC_URL): also refused.
        signed_elsewhere = twilio.sign(f"{bridge.url}/sms/inbound", form)
        async with http.post(
            f"{bridge.url}/sms/inbound", data=form, headers={"X-Twilio-Signature": signed_elsewhere}
        ) as r:
            assert r.status == 403
    await bridge.text(BEN, "a valid one")  # proves the worker runs: the forged ones left nothing
    await eventually(lambda: len(parents(slack)) == 1)
    assert thread_texts(slack, "415-555-0123") == []


async def test_malformed_or_oversized_input_is_400(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    cases = [
        {"MessageSid": "SM" + "c" * 32, "From": ANA, "To": "+14155550100", "Body": "x" * 1601},
        {"MessageSid": "nope", "From": ANA, "To": "+14155550100", "Body": "hi"},
        {"MessageSid": "SM" + "d" * 32, "From": "not a phone", "To": "+14155550100", "Body": ""},
    ]
    async with aiohttp.ClientSession() as http:
        for form in cases:
            signature = twilio.sign(f"{PUBLIC_URL}/sms/inbound", form)
            async with http.post(
                f"{bridge.url}/sms/inbound", data=form, headers={"X-Twilio-Signature": signature}
            ) as r:
                assert r.status == 400, form
                assert await r.text()
    assert slack.calls_to("chat.postMessage") == []


async def test_slack_429_and_500_delay_but_never_lose_or_reorder(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    slack.fail("chat.postMessage", status=429, times=2, retry_after=1)
    slack.fail("chat.postMessage", status=500, times=3)
    for n in range(5):
        assert (await bridge.text(ANA, f"text {n}")).status == 200
    # Held up by Slack, the texts may ride together in one post: still each once, in order.
    await eventually(lambda: len(shown_texts(slack, "415-555-0123")) == 5, within=40)
    assert shown_texts(slack, "415-555-0123") == [f"text {n}" for n in range(5)]
    assert len(parents(slack)) == 1


async def test_a_deleted_thread_gets_a_new_parent_not_the_channel_root(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    await bridge.text(ANA, "first")
    await eventually(lambda: len(thread_texts(slack, "415-555-0123")) == 1)
    [old] = parents(slack)
    slack.delete_message(INBOX, old.ts)
    await bridge.text(ANA, "after the delete")
    await eventually(lambda: thread_texts(slack, "415-555-0123") == ["after the delete"])
    roots = [m.text for m in slack.messages(INBOX)]
    assert not any("after the delete" in t for t in roots)


async def test_a_burst_costs_one_header_update(
    bridge: BridgeUnderTest, slack: SlackEmulator, db_path: object
) -> None:
    await bridge.text(ANA, "opening")
    await eventually(lambda: len(thread_texts(slack, "415-555-0123")) == 1)
    for n in range(10):
        await bridge.text(ANA, f"burst {n}")
    await eventually(lambda: len(thread_texts(slack, "415-555-0123")) == 11)
    # The default refresh (15 min) keeps chat.update off the per-text path entirely.
    assert slack.calls_to("chat.update") == []
    assert len(slack.calls_to("chat.postMessage")) == 12  # 1 parent + 11 texts


async def test_dead_jobs_are_reported_in_the_inbox_channel(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    slack.fail("chat.postMessage", status=200, error="invalid_blocks", times=1)
    await bridge.text(ANA, "keep me")
    await eventually(lambda: any("gave up" in m.text for m in slack.messages(INBOX)))
    report = next(m for m in slack.messages(INBOX) if "gave up" in m.text)
    assert "invalid_blocks" in report.text


async def test_health_readiness_and_metrics(bridge: BridgeUnderTest, slack: SlackEmulator) -> None:
    await bridge.text(ANA, "count me")
    await eventually(lambda: len(thread_texts(slack, "415-555-0123")) == 1)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{bridge.url}/healthz") as r:
            assert r.status == 200
        async with http.get(f"{bridge.url}/readyz") as r:
            assert r.status == 200
        async with http.get(f"{bridge.url}/metrics") as r:
            body = await r.text()
    assert 'bridge_webhooks_total{endpoint="inbound",outcome="new"} 1.0' in body
    assert "bridge_webhook_seconds_bucket" in body
    assert 'bridge_slack_calls_total{method="chat.postMessage"} 2.0' in body


async def test_mms_media_is_uploaded_into_the_thread_and_failures_leave_the_link(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    picture = b"\x89PNG fake picture bytes"
    good = f"{twilio.base_url}{twilio.add_media('pic', 'image/png', picture)}"
    wrong_type = f"{twilio.base_url}{twilio.add_media('app', 'application/x-msdownload', b'MZ')}"
    elsewhere = "https://attacker.example/steal"
    response = await twilio.send_inbound(
        f"{bridge.url}/sms/inbound",
        public_url=f"{PUBLIC_URL}/sms/inbound",
        from_=ANA,
        to="+14155550100",
        body="my receipt",
        media=[
            (good, "image/png"),
            (wrong_type, "application/x-msdownload"),
            (elsewhere, "image/png"),
        ],
    )
    assert response.status == 200
    await eventually(lambda: len(thread_texts(slack, "415-555-0123")) == 4)
    texts = thread_texts(slack, "415-555-0123")
    assert texts[0] == "my receipt"
    [parent] = parents(slack)
    [upload] = [m for m in slack.replies(INBOX, parent.ts) if m.files]
    assert upload.files[0]["name"] == "mms-1.png"
    assert upload.files[0]["size"] == len(picture)
    assert any("not attached: application/x-msdownload" in t for t in texts)
    assert any("attacker.example" in t and "not a Twilio media URL" in t for t in texts)
    assert [c.args["name"] for c in twilio.calls_to("media.fetch")] == ["pic", "app"]


async def test_a_large_picture_arrives_whole(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    picture = bytes(range(256)) * 8192  # 2 MiB: many network reads
    url = f"{twilio.base_url}{twilio.add_media('big', 'image/jpeg', picture)}"
    await twilio.send_inbound(
        f"{bridge.url}/sms/inbound",
        public_url=f"{PUBLIC_URL}/sms/inbound",
        from_=ANA,
        to="+14155550100",
        body="",
        media=[(url, "image/jpeg")],
    )
    await eventually(lambda: any(f.length == len(picture) for f in slack._files.values()))
