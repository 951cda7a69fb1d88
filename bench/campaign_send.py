"""Campaign benchmark: a 10,000-recipient marketing campaign at BRIDGE_SMS_RATE=100,
sent by the real `sms-bridge serve` process, which is killed (SIGKILL) half-way and
started again.

    .venv/bin/python bench/campaign_send.py [--recipients N] [--rate R] [--wait-quiet S]

The Slack and Twilio emulators (bridge/sandbox/) run in this process; the bridge runs
as its own process with SQLite in a temporary directory. The subscribers (every one
with marketing consent, in a zone where it is daytime) are stored first; the campaign is
started with `sms-bridge campaign send FILE --yes`, as an operator would, before the
bridge starts. Twilio's list of created messages is watched as it grows.

Figures: the time from the first send to the last (the restart included), the rate
achieved against the configured one, overall and by each process while it sent, and
duplicates (numbers texted more than once: must be 0).
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from common import VENV_BIN, base_env, bench_parser, machine_facts, out, progress, settle
from common import start_bridge as start_serve

from bridge.campaigns.models import CampaignState
from bridge.models import ConsentEvent, ConsentKind, ConsentSource, Contact
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.sandbox.wiring import BUSINESS, INBOX, emulator_env
from bridge.store.sqlite import SQLiteStore

CAMPAIGN = """
name: bench
kind: marketing
to: {tags: [bench]}
text: "Hi {first_name}, our spring menu is out: 20% off this week."
"""


def daytime_zone() -> str:
    """A fixed-offset zone where it is about noon now: no recipient waits for 08:00."""
    offset = (12 - datetime.now(UTC).hour + 11) % 24 - 11
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


async def seed(db: Path, count: int) -> list[str]:
    """`count` subscribers tagged `bench`, each with marketing consent."""
    phones = [f"+1800{n:07d}" for n in range(5550000, 5550000 + count)]
    store = SQLiteStore(db)
    await store.open()
    try:
        at = datetime.now(UTC)
        for n, phone in enumerate(phones):
            await store.put_contact(Contact(phone=phone, name=f"Sub{n} Bench", tags=("bench",)))
        await store.record_consent(
            [
                ConsentEvent(
                    business_number=BUSINESS,
                    subscriber=phone,
                    kind=ConsentKind.MARKETING,
                    granted=True,
                    source=ConsentSource.IMPORT,
                    at=at,
                    evidence="bench",
                )
                for phone in phones
            ]
        )
    finally:
        await store.close()
    return phones


async def campaign_done(db: Path, campaign_id: str) -> bool:
    store = SQLiteStore(db)
    await store.open()
    try:
        campaign = await store.get_campaign(campaign_id)
        progress_now = await store.campaign_progress(campaign_id)
    finally:
        await store.close()
    return (
        campaign is not None and campaign.state is CampaignState.DONE and progress_now.queued == 0
    )


class Watch:
    """Twilio's created messages over time: (monotonic time, count) each step."""

    def __init__(self, twilio: TwilioEmulator) -> None:
        self.twilio = twilio
        self.first: float | None = None
        self.last: float | None = None
        self.count = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            count = len(self.twilio.sent)
            if count > self.count:
                now = time.monotonic()
                self.first = self.first or now
                self.last = now
                self.count = count
            await asyncio.sleep(0.005)

    async def until(self, count: int, within: float) -> bool:
        deadline = time.monotonic() + within
        while self.count < count:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True


async def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=100.0)
    args = parser.parse_args()
    before = await settle(args.wait_quiet)
    count, rate = args.recipients, args.rate
    slack, twilio = SlackEmulator(), TwilioEmulator()
    slack.add_channel(INBOX, "sms-inbox")
    await slack.start()
    await twilio.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-campaign-") as tmp:
            home = Path(tmp)
            db = home / "bridge.db"
            (home / "bridge.yml").write_text(
                f"business: {{name: Bench Bakery, timezone: {daytime_zone()}}}\n"
            )
            (home / "bench.yml").write_text(CAMPAIGN)
            settings = emulator_env(slack, twilio, db) | {
                "BRIDGE_SMS_RATE": f"{rate:g}",
                "BRIDGE_CONFIG": str(home / "bridge.yml"),
                "BRIDGE_LOG_LEVEL": "warning",
                "BRIDGE_JOB_LEASE_SECONDS": "5",
            }
            progress(f"storing {count} subscribers")
            phones = await seed(db, count)
            progress("sms-bridge campaign send bench.yml --yes")
            started = time.monotonic()
            created = await asyncio.to_thread(
                subprocess.run,
                [str(VENV_BIN / "sms-bridge"), "campaign", "send", "bench.yml", "--yes"],
                env=base_env(home) | settings,
                cwd=home,
                capture_output=True,
                text=True,
                check=False,
            )
            plan_seconds = time.monotonic() - started
            if created.returncode != 0:
                out(created.stdout + created.stderr)
                return 1
            campaign_id = created.stdout.split("campaign ")[-1].split()[0]
            watch = Watch(twilio)
            watch.start()
            progress("serve (1st)")
            first = await start_serve(settings, home)
            await watch.until(count // 2, within=count / rate * 3 + 60)
            killed_at, sent_before = time.monotonic(), watch.count
            first_rate = sent_before / (killed_at - (watch.first or killed_at))
            first.process.send_signal(signal.SIGKILL)
            await first.process.wait()
            progress(f"SIGKILL after {sent_before} sends; serve (2nd)")
            second = await start_serve(settings, home)
            resumed_at = time.monotonic()
            finished = await watch.until(count, within=count / rate * 3 + 60)
            deadline = time.monotonic() + 120
            # Another process's store: polled.
            while not await campaign_done(db, campaign_id) and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.5)
            await asyncio.sleep(3)  # a late duplicate would show by now
            await second.stop()
            last = watch.last or time.monotonic()
            second_sends = watch.count - sent_before
            per_number = Counter(message.to for message in twilio.sent)
            duplicates = sum(n - 1 for n in per_number.values() if n > 1)
            missing = len(set(phones) - per_number.keys())
            total = last - (watch.first or last)
            out(f"# Campaign benchmark ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")
            out(f"machine: {machine_facts()} | load before: {before}")
            out(f"command: {' '.join(sys.argv)}")
            out(f"recipients: {count}, BRIDGE_SMS_RATE={rate:g}")
            out(f"campaign send (plan + store {count} recipients): {plan_seconds:.1f} s")
            out(f"all sent: {finished}; texts created: {len(twilio.sent)}")
            out(f"first send → last send (restart included): {total:.1f} s")
            out(f"restart gap (kill → 2nd ready): {resumed_at - killed_at:.1f} s")
            overall = watch.count / total
            out(f"achieved rate overall: {overall:.1f}/s ({overall / rate:.1%})")
            out(f"1st process: {sent_before} sends at {first_rate:.1f}/s ({first_rate / rate:.1%})")
            second_rate = second_sends / max(last - resumed_at, 1e-9)  # from ready
            share = second_rate / rate
            out(f"2nd process: {second_sends} sends at {second_rate:.1f}/s ({share:.1%})")
            out(f"duplicates: {duplicates}; numbers never texted: {missing}")
            return 0 if duplicates == 0 and missing == 0 else 1
    finally:
        await twilio.stop()
        await slack.stop()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
