"""Every post into Slack happens once: a crash between a post and its bookkeeping, or
an answer that never came, never shows a text twice or opens a second thread."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

from bridge.models import utcnow
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.store.base import Store
from bridge.store.sqlite import SQLiteStore
from tests.support import (
    AGENT,
    BUSINESS,
    INBOX,
    PUBLIC_URL,
    BridgeUnderTest,
    agent_replies,
    eventually,
    eventually_async,
    open_thread,
    parents,
    shown_texts,
    thread_texts,
)

ANA, BEN, CHE = "+14155550123", "+14155550124", "+14155550125"


class Killed(Exception):
    """Stands for the process dying at this point: the write never happens."""


class CrashingStore(SQLiteStore):
    """A store whose named bookkeeping writes fail, as if the process died just after
    Slack answered the post before them."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.crashes: Counter[str] = Counter()

    async def set_thread(
        self, conversation_id: int, channel: str, thread_ts: str, *, replacing: str | None
    ) -> bool:
        if self.crashes["set_thread"]:
            self.crashes["set_thread"] -= 1
            raise Killed("died before storing the parent's ts")
        return await super().set_thread(conversation_id, channel, thread_ts, replacing=replacing)

    async def set_message_slack_ts(
        self,
        message_id: str,
        channel: str,
        ts: str,
        *,
        with_draft: bool = False,
        landing: str | None = None,
    ) -> None:
        if self.crashes["set_message_slack_ts"]:
            self.crashes["set_message_slack_ts"] -= 1
            raise Killed("died before storing the text's ts")
        await super().set_message_slack_ts(
            message_id, channel, ts, with_draft=with_draft, landing=landing
        )

    async def mark_media_posted(self, message_id: str) -> None:
        if self.crashes["mark_media_posted"]:
            self.crashes["mark_media_posted"] -= 1
            raise Killed("died before storing that the pictures were shared")
        await super().mark_media_posted(message_id)

    async def land_burst(
        self,
        message_ids: Sequence[str],
        channel: str,
        ts: str,
        *,
        draft_of: str | None,
        landing: str,
        riders: Sequence[str],
    ) -> None:
        if self.crashes["land_burst"]:
            self.crashes["land_burst"] -= 1
            raise Killed("died before storing where the burst's texts were posted")
        await super().land_burst(
            message_ids, channel, ts, draft_of=draft_of, landing=landing, riders=riders
        )

    async def land_post(self, key: str, ts: str) -> bool:
        if self.crashes["land_post"]:
            self.crashes["land_post"] -= 1
            raise Killed("died before recording where the post landed")
        return await super().land_post(key, ts)


@pytest.fixture
def bridge_store(db_path: Path) -> Store:
    return CrashingStore(db_path)


@pytest.fixture
def crashes(bridge_store: CrashingStore) -> Counter[str]:
    return bridge_store.crashes


def posted_texts(slack: SlackEmulator) -> Counter[str]:
    return Counter(r.text for p in parents(slack) for r in slack.replies(INBOX, p.ts))


@pytest.mark.parametrize("echoes", [True, False], ids=["echoed", "history"])
async def test_a_crash_after_posting_a_parent_opens_no_second_thread(
    bridge: BridgeUnderTest, slack: SlackEmulator, crashes: Counter[str], echoes: bool
) -> None:
    if not echoes:  # the echo never comes: conversations.history finds the parent
        slack.echo_url = None
    crashes["set_thread"] = 1
    crashes["land_post"] = 1  # the post's own record of where it landed is lost too
    assert (await bridge.text(ANA, "hello")).status == 200
    await eventually(lambda: thread_texts(slack, "415-555-0123") == ["hello"], within=30)
    await bridge.idle()
    assert thread_texts(slack, "415-555-0123") == ["hello"]
    assert len(parents(slack)) == 1
    if not echoes:
        assert len(slack.calls_to("conversations.history")) == 1


async def test_a_crash_after_posting_a_text_shows_it_once(
    bridge: BridgeUnderTest, slack: SlackEmulator, crashes: Counter[str]
) -> None:
    await bridge.text(ANA, "first")
    await eventually(lambda: thread_texts(slack, "415-555-0123") == ["first"])
    crashes["set_message_slack_ts"] = 1  # the text's write is also where its post lands
    await bridge.text(ANA, "second")
    await bridge.text(ANA, "third")
    await eventually(lambda: thread_texts(slack, "415-555-0123") == ["first", "second", "third"])
    await bridge.idle()
    assert posted_texts(slack) == Counter({"first": 1, "second": 1, "third": 1})


# An app distributed outside Slack's Marketplace, set up as its README says.
@pytest.mark.parametrize("extra_env", [{"BRIDGE_SLACK_HISTORY_PER_MINUTE": "1"}])
async def test_one_history_read_settles_every_unknown_parent_of_the_channel(
    bridge: BridgeUnderTest, slack: SlackEmulator, crashes: Counter[str]
) -> None:
    slack.echo_url = None
    slack.rate_limit("conversations.history", 1 / 60)  # outside the Marketplace
    crashes["land_post"] = 3  # each dies right after Slack answered its parent
    for phone in (ANA, BEN, CHE):
        assert (await bridge.text(phone, f"hi from {phone}")).status == 200
    await eventually(lambda: sum(posted_texts(slack).values()) == 3, within=40)
    await bridge.idle()
    assert sum(posted_texts(slack).values()) == 3
    assert len(parents(slack)) == 3
    assert len(slack.calls_to("conversations.history")) == 1
    assert slack.rate_limited == 0


async def test_a_crash_after_posting_a_burst_shows_each_of_its_texts_once(
    bridge: BridgeUnderTest, slack: SlackEmulator, crashes: Counter[str]
) -> None:
    await bridge.text(ANA, "first")
    await eventually(lambda: thread_texts(slack, "415-555-0123") == ["first"])
    slack.fail("chat.postMessage", status=429, retry_after=1)  # the next texts wait
    crashes["land_burst"] = 1  # the process dies once the burst's post is made
    for text in ("second", "third", "fourth"):
        assert (await bridge.text(ANA, text)).status == 200
    everything = ["first", "second", "third", "fourth"]
    await eventually(lambda: shown_texts(slack, "415-555-0123") == everything, within=40)
    await bridge.idle()
    assert shown_texts(slack, "415-555-0123") == everything
    made = [c for c in slack.calls_to("chat.postMessage") if not c.failed]
    assert len(made) == 3  # the parent, "first", and one post for the three after it


async def test_a_lost_answer_to_a_post_shows_the_text_once(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    await bridge.text(ANA, "first")
    await eventually(lambda: thread_texts(slack, "415-555-0123") == ["first"])
    slack.fail("chat.postMessage", status=500, applied=True)  # posted, but answered 500
    await bridge.text(ANA, "second")
    await eventually(lambda: thread_texts(slack, "415-555-0123") == ["first", "second"])
    await bridge.idle()
    assert thread_texts(slack, "415-555-0123") == ["first", "second"]
    assert len(slack.calls_to("chat.postMessage")) == 3  # parent, first, second: no repeat


async def test_a_lost_answer_to_a_parent_opens_no_second_thread(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    slack.echo_url = None
    slack.fail("chat.postMessage", status=500, applied=True)
    await bridge.text(ANA, "hello")
    await eventually(lambda: thread_texts(slack, "415-555-0123") == ["hello"], within=30)
    await bridge.idle()
    assert thread_texts(slack, "415-555-0123") == ["hello"]
    assert len(parents(slack)) == 1


async def test_a_reply_under_a_parent_not_yet_recorded_is_delivered_again_not_dropped(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    """An agent answers in a thread whose parent Slack took, but whose ts the bridge
    has not recorded yet (its answer lost, the echo not in yet, or the write waiting on
    a busy store). Slack is asked to deliver the reply again, and then it is sent."""
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.join(INBOX, AGENT)
    echo_url, slack.echo_url = slack.echo_url, None  # the parent's echo is not in yet
    slack.fail("chat.postMessage", status=500, applied=True)  # posted, but answered 500
    await bridge.text(ANA, "hello")
    await eventually(lambda: len(parents(slack)) == 1)
    envelope, answer = await agent_replies(bridge, slack, parents(slack)[0].ts, "On my way")
    assert answer.status == 503  # not taken: Slack delivers it again

    slack.echo_url = echo_url

    async def taken() -> bool:  # Slack's retries, until the parent is recorded
        retried = await slack.deliver(f"{bridge.url}/slack/events", envelope, retry_num=1)
        return retried.status == 200

    await eventually_async(taken, within=30)
    await eventually(lambda: [m.body for m in twilio.sent_to(ANA)] == ["On my way"], within=15)


async def test_a_reply_while_slack_fails_to_say_who_the_app_is_is_delivered_again(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    """The first request a process takes makes Bolt ask Slack who the app is
    (auth.test). If Slack fails that call, the reply is not taken: Slack is asked to
    deliver it again (503), not told 200 and the reply dropped."""
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.join(INBOX, AGENT)
    thread = await open_thread(bridge, slack, ANA)
    slack.fail_for("auth.test", seconds=60, status=500)
    envelope, answer = await agent_replies(bridge, slack, thread, "On my way")
    assert answer.status == 503

    slack.clear_failures()
    retried = await slack.deliver(f"{bridge.url}/slack/events", envelope, retry_num=1)
    assert retried.status == 200
    await eventually(lambda: [m.body for m in twilio.sent_to(ANA)] == ["On my way"], within=15)


@pytest.mark.parametrize("extra_env", [{"BRIDGE_SLACK_ECHO_WAIT_SECONDS": "1"}])
async def test_a_post_slack_failed_is_posted_again(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    await bridge.text(ANA, "first")
    await eventually(lambda: thread_texts(slack, "415-555-0123") == ["first"])
    slack.fail("chat.postMessage", status=500)  # not posted: no echo comes
    await bridge.text(ANA, "second")
    await eventually(lambda: thread_texts(slack, "415-555-0123") == ["first", "second"])
    await bridge.idle()
    assert thread_texts(slack, "415-555-0123") == ["first", "second"]


async def test_an_echo_from_another_app_lands_nothing(
    bridge: BridgeUnderTest, slack: SlackEmulator, bridge_store: CrashingStore
) -> None:
    began = await bridge_store.begin_post("text:x@1.0", INBOX, "1.0", at=utcnow())
    forged = slack.envelope(
        {
            "type": "message",
            "channel": INBOX,
            "ts": "1.5",
            "text": "spoof",
            "bot_id": "B0OTHER",
            "app_id": "A0OTHER",
            "metadata": {"event_type": "sms_bridge_post", "event_payload": {"key": "text:x@1.0"}},
        }
    )
    assert (await slack.deliver(f"{bridge.url}/slack/events", forged)).status == 200
    again = await bridge_store.begin_post("text:x@1.0", INBOX, "1.0", at=began.post.started_at)
    assert again.post.ts is None


async def mms(bridge: BridgeUnderTest, twilio: TwilioEmulator, names: list[str]) -> None:
    media = [
        (f"{twilio.base_url}{twilio.add_media(name, 'image/png', name.encode())}", "image/png")
        for name in names
    ]
    answer = await twilio.send_inbound(
        f"{bridge.url}/sms/inbound",
        public_url=f"{PUBLIC_URL}/sms/inbound",
        from_=ANA,
        to=BUSINESS,
        body="pictures",
        media=media,
    )
    assert answer.status == 200


def pictures(slack: SlackEmulator) -> list[str]:
    return [f["name"] for p in parents(slack) for m in slack.replies(INBOX, p.ts) for f in m.files]


async def test_a_picture_whose_answer_was_lost_shows_once(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    slack.fail("files.completeUploadExternal", status=500, applied=True)
    await mms(bridge, twilio, ["one", "two"])
    await eventually(lambda: len(pictures(slack)) >= 2, within=30)
    await bridge.idle()
    assert sorted(pictures(slack)) == ["mms-1.png", "mms-2.png"]


async def test_a_crash_after_sharing_pictures_shows_each_once(
    bridge: BridgeUnderTest,
    slack: SlackEmulator,
    twilio: TwilioEmulator,
    crashes: Counter[str],
) -> None:
    crashes["mark_media_posted"] = 1
    await mms(bridge, twilio, ["one", "two"])
    await eventually(lambda: len(pictures(slack)) >= 2, within=30)
    await bridge.idle()
    assert sorted(pictures(slack)) == ["mms-1.png", "mms-2.png"]
