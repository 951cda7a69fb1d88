from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bridge.app import build_app, make_store
from bridge.config import BusinessConfig, load_settings
from bridge.delivery.outbox import RetryPolicy
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.store.base import Store
from tests.support import (
    INBOX,
    PUBLIC_URL,
    SHUTDOWN_SECONDS,
    BridgeUnderTest,
    bounded,
    bridge_env,
)

# Slowest first: `./dev test` spreads the files over the cores, and a long end-to-end
# file started last would run alone at the end.
ROOMS_BY_LENGTH = ("e2e", "browser", "integration", "contract", "unit")


def room_of(item: pytest.Item) -> str:
    return item.path.relative_to(Path(__file__).parent).parts[0]


# First, so that xdist (`--dist loadgroup`) sees the group marks it turns into work units.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        room = room_of(item)
        return ROOMS_BY_LENGTH.index(room) if room in ROOMS_BY_LENGTH else 0

    items.sort(key=rank)  # stable: each file's tests keep their order
    for item in items:
        # One chromium and one demo at a time on the machine: several side by side
        # starved each other's page waits when CI shared two cores with other load.
        if room_of(item) == "browser":
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    emulator = SlackEmulator()
    emulator.add_channel(INBOX, "sms-inbox")
    emulator.echo_retry_delays = (0.2, 1.0, 3.0)  # Slack's schedule, in seconds not minutes
    await emulator.start()
    yield emulator
    await bounded(emulator.stop())


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioEmulator]:
    emulator = TwilioEmulator()
    await emulator.start()
    yield emulator
    await bounded(emulator.stop())


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bridge.db"


@pytest.fixture
def business_config() -> BusinessConfig:
    return BusinessConfig()


@pytest.fixture
def extra_env() -> dict[str, str]:
    """Settings a test module adds to the emulators' environment."""
    return {}


@pytest.fixture
def bridge_store() -> Store | None:
    """A store a test module hands the bridge (None: the one its settings name)."""
    return None


@pytest.fixture
async def bridge(
    slack: SlackEmulator,
    twilio: TwilioEmulator,
    db_path: Path,
    business_config: BusinessConfig,
    extra_env: dict[str, str],
    bridge_store: Store | None,
) -> AsyncIterator[BridgeUnderTest]:
    """The whole bridge in this process, on a real port, talking to the emulators."""
    env = {k.lower(): v for k, v in (bridge_env(slack, twilio, db_path) | extra_env).items()}
    settings = load_settings(**env)
    # Known here, not only to the app, so that it is closed even if the app's clean-up
    # hangs: its database thread would keep the test process from exiting.
    store = bridge_store or make_store(settings)
    app = await build_app(
        settings,
        business_config,
        store=store,
        retry_policy=RetryPolicy(first_delay=0.05, max_attempts=4),
    )
    runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    twilio.route_webhooks(PUBLIC_URL, f"http://127.0.0.1:{port}")
    slack.echo_url = f"http://127.0.0.1:{port}/slack/events"  # Slack echoes the bridge's posts
    yield BridgeUnderTest(url=f"http://127.0.0.1:{port}", twilio=twilio, app=app)
    slack.echo_url = None
    try:
        await bounded(runner.cleanup())  # the app's clean-up stops workers, closes clients
    finally:
        await bounded(store.close())
