"""`/notify/push` in chromium: the page a `/sms push` link opens registers the service
worker, has the notifications permission and subscribes. Chromium here reaches no push
service, so the test grants the permission to the context and, where
`pushManager.subscribe` fails for want of one, hands the page a subscription it made
(its own P-256 keys) through the page's own `save`, the request the page sends itself;
the subscription is then stored for the link's person. Bad input and an expired link
are refused, on the page too."""

from __future__ import annotations

import base64
import os
import signal
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import Browser, BrowserContext, Page, expect

from bridge.models import utcnow
from bridge.notify.push_links import PushLinks
from bridge.sender_settings import new_vapid_keys
from tests.browser.support import SMS_BRIDGE, STARTUP_LIMIT_SECONDS, VIEWPORT, free_port
from tests.e2e.cli_run import minimal_env

pytestmark = pytest.mark.browser

PUBLIC_URL = "https://sms.example.test"  # what the links name; the test opens them locally
PRIVATE, PUBLIC = new_vapid_keys()
LINKS = PushLinks.for_key(PRIVATE, PUBLIC_URL, minutes=60)
USER = "U0ANA"
DONE = "Done: this browser shows your notifications from now on."


@dataclass
class Served:
    url: str
    db: Path
    proc: subprocess.Popen[bytes]

    def link(self, user: str = USER, *, minutes_ago: int = 0) -> str:
        made = LINKS.link(user, now=utcnow() - timedelta(minutes=minutes_ago))
        return made.replace(PUBLIC_URL, self.url)

    def stored(self) -> list[tuple[str, str, str, str]]:
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as db:
            return db.execute(
                "SELECT user, endpoint, p256dh, auth FROM push_subscriptions ORDER BY endpoint"
            ).fetchall()


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"sms-bridge serve exited: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=1) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise AssertionError(f"sms-bridge serve was not ready: {log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`sms-bridge serve` with browser notifications set up (Slack and Twilio are a
    closed port: this page needs neither)."""
    workdir = tmp_path_factory.mktemp("push")
    config = workdir / "business.yml"
    config.write_text(
        f"notifications:\n  web_push:\n    vapid_private_key: {PRIVATE}\n"
        "    subject: mailto:ops@bakery.example\n",
        encoding="utf-8",
    )
    port = free_port()
    env = minimal_env(workdir) | {"BRIDGE_CONFIG": str(config), "PORT": str(port)}
    log = workdir / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [SMS_BRIDGE, "serve"],
            cwd=workdir,
            env=os.environ | env | {"BRIDGE_PUBLIC_URL": PUBLIC_URL},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    _wait_ready(url, proc, log)
    yield Served(url, Path(env["BRIDGE_DB_PATH"]), proc)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def allowed(browser: Browser, served: Served) -> Iterator[BrowserContext]:
    """A browser whose person allowed notifications for the bridge's page."""
    made = browser.new_context(viewport=VIEWPORT)
    made.set_default_timeout(10_000)
    made.grant_permissions(["notifications"], origin=served.url)
    yield made
    made.close()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def made_subscription(name: str) -> dict[str, Any]:
    """What `PushSubscription.toJSON()` gives, with keys the test made."""
    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {
        "endpoint": f"https://push.example.net/send/{name}",
        "expirationTime": None,
        "keys": {"p256dh": b64url(raw), "auth": b64url(os.urandom(16))},
    }


def status(page: Page) -> Any:
    return page.get_by_role("status")


def test_the_page_subscribes_this_browser_for_the_links_person(
    allowed: BrowserContext, served: Served
) -> None:
    page = allowed.new_page()
    page.goto(served.link())
    expect(page.get_by_role("heading", name="Notifications in this browser")).to_be_visible()
    expect(page.get_by_text(USER)).to_be_visible()
    page.get_by_role("button", name="Turn on notifications").click()
    # The service worker is registered and active, and the permission is granted.
    page.wait_for_function(
        "navigator.serviceWorker.getRegistration('/notify/')"
        ".then(r => !!(r && r.active && r.active.scriptURL.endsWith('/notify/sw.js')))"
    )
    assert page.evaluate("Notification.permission") == "granted"
    subscribed = page.evaluate(
        "navigator.serviceWorker.ready.then(r => r.pushManager.getSubscription())"
        ".then(s => s && s.toJSON())"
    )
    made = subscribed or made_subscription("chromium")  # no push service here: made by the test
    if subscribed is None:
        assert page.evaluate("s => window.bridgePush.save(s)", made) is True
    expect(status(page)).to_have_text(DONE)
    assert (USER, made["endpoint"], made["keys"]["p256dh"], made["keys"]["auth"]) in served.stored()


def test_a_bad_subscription_is_refused_on_the_page_and_nothing_is_stored(
    allowed: BrowserContext, served: Served
) -> None:
    page = allowed.new_page()
    page.goto(served.link("U0BAD"))
    bad = made_subscription("bad")
    bad["keys"]["auth"] = "tooshort"
    assert page.evaluate("s => window.bridgePush.save(s)", bad) is False
    expect(status(page)).to_contain_text("did not take this browser's subscription")
    expect(status(page)).to_contain_text("keys.auth")
    assert [row for row in served.stored() if row[0] == "U0BAD"] == []


def test_an_expired_link_says_how_to_get_a_new_one(allowed: BrowserContext, served: Served) -> None:
    page = allowed.new_page()
    answer = page.goto(served.link("U0OLD", minutes_ago=120))
    assert answer is not None
    assert answer.status == 403
    expect(page.get_by_text("Type /sms push in Slack for a new one")).to_be_visible()
    assert page.get_by_role("button").count() == 0
