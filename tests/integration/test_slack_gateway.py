"""The Slack gateway against the Slack emulator: what one 429 holds up, and how long."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bridge.delivery.errors import RetryLater
from bridge.delivery.pacing import Pacer, Rate
from bridge.metrics import Metrics
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.slack.gateway import MAX_RETRY_AFTER, SlackGateway, slack_rates
from tests.support import INBOX

T = TypeVar("T")
OTHER, BEN = "C0OTHER", "U0BEN"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def gateway(slack: SlackEmulator, clock: Clock) -> AsyncIterator[SlackGateway]:
    slack.add_channel(OTHER, "other")
    slack.add_user(BEN, "ben", "Ben Ode")
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(
            token=slack.token, base_url=f"{slack.base_url}/api/", session=session
        )
        # Rates that never make these few calls wait: only holds are tested here.
        yield SlackGateway(client, Pacer(lambda _key: Rate(1000, 100), clock), Metrics())


async def soon(call: Awaitable[T]) -> T:
    """The call, which must not wait out a hold (Slack's 90 s, say)."""
    return await asyncio.wait_for(call, timeout=5)


async def test_a_429_holds_its_method_in_its_channel_for_the_cap_at_most(
    gateway: SlackGateway, slack: SlackEmulator, clock: Clock
) -> None:
    card = await gateway.post_message(INBOX, "card")
    slack.fail("chat.postMessage", status=429, retry_after=90)

    with pytest.raises(RetryLater) as limited:
        await soon(gateway.post_message(INBOX, "text", thread_ts=card))
    assert limited.value.throttled
    assert limited.value.after == MAX_RETRY_AFTER < 90
    asked = len(slack.calls_to("chat.postMessage"))
    with pytest.raises(RetryLater):  # held: handed back at once, Slack not asked
        await soon(gateway.post_message(INBOX, "another text", thread_ts=card))
    assert len(slack.calls_to("chat.postMessage")) == asked

    # Other channels and other methods go on.
    await soon(gateway.post_message(BEN, "a DM"))
    await soon(gateway.update_message(INBOX, card, "card, updated", []))
    await soon(gateway.add_reaction(INBOX, card, "eyes"))

    clock.now += MAX_RETRY_AFTER
    await soon(gateway.post_message(INBOX, "text", thread_ts=card))
    # A 429 again holds again.
    slack.fail("chat.postMessage", status=429, retry_after=90)
    for _ in range(2):
        with pytest.raises(RetryLater):
            await soon(gateway.post_message(INBOX, "more", thread_ts=card))
    assert [r.text for r in slack.replies(INBOX, card)] == ["text"]


async def test_a_429_of_a_workspace_paced_method_holds_one_channel(
    gateway: SlackGateway, slack: SlackEmulator
) -> None:
    here = await gateway.post_message(INBOX, "card")
    there = await gateway.post_message(OTHER, "elsewhere")
    slack.fail("chat.update", status=429, retry_after=30)

    with pytest.raises(RetryLater):
        await soon(gateway.update_message(INBOX, here, "card, updated", []))
    with pytest.raises(RetryLater):
        await soon(gateway.update_message(INBOX, here, "card, updated", []))
    await soon(gateway.update_message(OTHER, there, "elsewhere, updated", []))


async def test_each_channel_has_its_own_post_pace(slack: SlackEmulator, clock: Clock) -> None:
    # Routing puts threads in several team channels: Slack allows about one post a
    # second in each, so a busy channel must not slow the others down.
    sales, support = "C0SALES", "C0SUPPORT"
    slack.add_channel(sales, "sales")
    slack.add_channel(support, "support")
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(
            token=slack.token, base_url=f"{slack.base_url}/api/", session=session
        )
        # The bridge's own rates, one post a second and no burst, on a clock that stands
        # still: a post that had to wait for its channel's pace would never be made.
        gateway = SlackGateway(client, slack_rates(1.0, 1, clock), Metrics())
        await soon(gateway.post_message(INBOX, "a card"))
        await soon(gateway.post_message(sales, "a card"))
        assert gateway.wait_for("chat.postMessage", INBOX) > 0
        assert gateway.wait_for("chat.postMessage", sales) > 0
        assert gateway.wait_for("chat.postMessage", support) == 0
        await soon(gateway.post_message(support, "a card"))
        clock.now += 1
        await soon(gateway.post_message(sales, "the next second's card"))
    assert [m.text for m in slack.messages(sales)] == ["a card", "the next second's card"]


@pytest.mark.parametrize(("per_minute", "next_read_waits"), [(1.0, True), (50.0, False)])
async def test_history_reads_come_at_the_apps_tier(
    slack: SlackEmulator, clock: Clock, per_minute: float, next_read_waits: bool
) -> None:
    # An app distributed outside Slack's Marketplace reads history once a minute; a
    # workspace's own app (what the setup guide makes) keeps Tier 3, about 50.
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(
            token=slack.token, base_url=f"{slack.base_url}/api/", session=session
        )
        rates = slack_rates(1.0, 1, clock, history_per_minute=per_minute)
        gateway = SlackGateway(client, rates, Metrics())
        await soon(gateway.history(INBOX, oldest="0"))
        clock.now += 2
        if next_read_waits:
            with pytest.raises(RetryLater):
                await soon(gateway.history(INBOX, oldest="0"))
        else:
            await soon(gateway.history(INBOX, oldest="0"))
