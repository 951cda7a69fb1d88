"""Poll-answers benchmark: 10,000 answers from 10,000 numbers, as signed Twilio
webhooks, into the real `sms-bridge serve` process.

    .venv/bin/python bench/poll_answers.py [--quick] [--numbers-audience] [--wait-quiet SECONDS]

A poll campaign to N subscribers is stored (SQLite, in a temporary directory) and the
bridge sends its texts to the Twilio emulator first; then every subscriber answers
once, in one of the forgiving forms ("a", "B)", "mango!", "2", "I vote C"…), open loop
at N/50 a second. Figures: answers tallied, webhook latency (p50/p99), chat.update
calls on the results message (and the shortest gap between two), and posts into the
inbox (valid answers make none). With --numbers-audience the campaign lists its N
numbers in `to.numbers` (as a file written with literal numbers does) instead of a tag.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from common import (
    Prepared,
    bench_parser,
    loadavg,
    machine_facts,
    ms,
    new_session,
    open_loop,
    out,
    percentile,
    progress,
    settle,
    start_bridge,
)

from bridge.campaigns.models import (
    Audience,
    Campaign,
    CampaignKind,
    CampaignSpec,
    CampaignState,
    Poll,
)
from bridge.models import DeliveryStatus, Direction, Message, MessagePurpose, utcnow
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.sandbox.wiring import BUSINESS, INBOX, PUBLIC_URL, emulator_env
from bridge.store.sqlite import SQLiteStore

POLL = Poll(options={"A": "Mango", "B": "Strawberry", "C": "Vanilla"})
TEXT = "Which new flavor should we add? Reply A for Mango, B for Strawberry, C for Vanilla."
FORMS = ["a", "B)", "mango!", "option c", "2", "I vote C", "(b)", "Vanilla", "A.", "3️⃣"]
SECONDS = 50.0  # the answers arrive over this long (the issue: within 60 s)
UPDATE_SECONDS = 5.0

# The targets.
TARGET_P99 = 0.050


def subscriber(n: int) -> str:
    return f"+1415{n:07d}"


async def seed(db: Path, count: int, *, listed: bool) -> str:
    """The campaign and its queued texts, as the pump leaves them; its id."""
    store = SQLiteStore(db)
    await store.open()
    try:
        now = utcnow()
        numbers = [subscriber(n) for n in range(count)]
        spec = CampaignSpec(
            name="Flavor poll",
            kind=CampaignKind.SUPPORT,
            from_number=BUSINESS,
            # The recipients are stored below either way; listed, every reply's read of
            # the campaign meets a spec of `count` numbers.
            to=Audience(numbers=tuple(numbers)) if listed else Audience(tags=("bench",)),
            text=TEXT,
            poll=POLL,
        )
        campaign_id = uuid.uuid4().hex[:8]
        campaign = Campaign(
            id=campaign_id,
            spec=spec,
            state=CampaignState.SCHEDULED,
            created_by="cli",
            created_at=now,
        )
        await store.create_campaign(campaign, numbers)
        await store.start_campaign(campaign_id, at=now, closes_at=now + timedelta(hours=24))

        async def queue(number: str) -> None:
            conversation = await store.open_conversation(BUSINESS, number)
            message = Message(
                id=uuid.uuid4().hex,
                conversation_id=conversation.id,
                direction=Direction.OUTBOUND,
                body=TEXT,
                created_at=now,
                status=DeliveryStatus.QUEUED,
                purpose=MessagePurpose.NOTICE,
                campaign_id=campaign_id,
            )
            await store.queue_campaign_text(message, number, send_at=now)

        for start in range(0, count, 200):
            await asyncio.gather(*(queue(n) for n in numbers[start : start + 200]))
        return campaign_id
    finally:
        await store.close()


def answers(twilio: TwilioEmulator, count: int) -> list[Prepared]:
    """One signed inbound webhook per subscriber, as Twilio posts it."""
    signed_url = f"{PUBLIC_URL}/sms/inbound"
    prepared = []
    for n in range(count):
        sid = f"SM{n:032x}"
        params = {
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": FORMS[n % len(FORMS)],
            "To": BUSINESS,
            "From": subscriber(n),
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": twilio.account_sid,
            "ApiVersion": "2010-04-01",
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio.sign(signed_url, params),
        }
        prepared.append(Prepared(urlencode(params).encode(), headers))
    return prepared


async def wait_for(check: object, within: float, what: str) -> float:
    """Poll an async check until true; the seconds it took (raises when out of time)."""
    began = time.monotonic()
    while not await check():  # type: ignore[operator]
        if time.monotonic() - began > within:
            raise SystemExit(f"gave up: {what} not within {within:.0f} s")
        await asyncio.sleep(0.2)
    return time.monotonic() - began


def min_gap(times: Sequence[float]) -> float | None:
    return min((b - a for a, b in itertools.pairwise(times)), default=None)


async def main() -> None:
    parser = bench_parser(__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--numbers-audience",
        action="store_true",
        help="the campaign lists its numbers in to.numbers instead of naming a tag",
    )
    args = parser.parse_args()
    count = 2000 if args.quick else 10_000
    before = await settle(args.wait_quiet)
    slack, twilio = SlackEmulator(), TwilioEmulator()
    slack.add_channel(INBOX, "sms-inbox")
    await slack.start()
    await twilio.start()
    with tempfile.TemporaryDirectory(prefix="bench-poll-") as tmp:
        workdir = Path(tmp)
        db = workdir / "bridge.db"
        progress(f"storing a poll campaign to {count:,} subscribers")
        campaign_id = await seed(db, count, listed=args.numbers_audience)
        settings = emulator_env(slack, twilio, db) | {
            "BRIDGE_LOG_LEVEL": "warning",
            "BRIDGE_SMS_RATE": "1000",  # the emulator takes the campaign's texts fast
        }
        child = await start_bridge(settings, workdir)
        slack.echo_url = f"{child.url}/slack/events"
        twilio.route_webhooks(PUBLIC_URL, child.url)
        store = SQLiteStore(db)
        await store.open()
        try:
            progress("the bridge sends the campaign's texts")

            async def all_sent() -> bool:
                return len(twilio.sent) >= count and (
                    await store.latest_campaign_text(BUSINESS, subscriber(count - 1)) is not None
                )

            send_seconds = await wait_for(all_sent, 600, "the campaign's texts")
            await twilio.settle()  # their status callbacks are in

            async def idle() -> bool:
                async with new_session(1) as http, http.get(f"{child.url}/metrics") as response:
                    metrics = await response.text()
                return not any(
                    line.startswith("bridge_queue_depth{")
                    and 'kind="dead"' not in line
                    and float(line.rsplit(" ", 1)[1]) > 0
                    for line in metrics.splitlines()
                )

            await wait_for(idle, 120, "the bridge idle after the sends")
            requests = answers(twilio, count)
            calls_before = len(slack.calls)
            rate = count / SECONDS
            progress(f"{count:,} answers at {rate:.0f}/s")
            async with new_session(256) as session:
                latency = await open_loop(
                    session, f"{child.url}/sms/inbound", requests, rate=rate, duration=SECONDS + 1
                )

            async def tallied() -> bool:
                return (await store.tally(campaign_id)).total >= count

            await wait_for(tallied, 120, "every answer tallied")
            tally = await store.tally(campaign_id)

            async def shown() -> bool:
                campaign = await store.get_campaign(campaign_id)
                if campaign is None or campaign.results_ts is None:
                    return False
                message = slack.message(campaign.slack_channel or INBOX, campaign.results_ts)
                return message is not None and f"{count} answers" in str(message.blocks)

            await wait_for(shown, 60, "the results message showing every answer")
            campaign = await store.get_campaign(campaign_id)
            assert campaign is not None
            calls = slack.calls[calls_before:]
            updates = [
                c.time
                for c in calls
                if c.method == "chat.update" and c.args.get("ts") == campaign.results_ts
            ]
            span = (updates[-1] - updates[0]) if len(updates) > 1 else 0.0
            inbox_posts = [
                c
                for c in calls
                if c.method == "chat.postMessage"
                and "poll results" not in str(c.args.get("blocks"))
            ]
            results_posts = [
                c
                for c in calls
                if c.method == "chat.postMessage" and "poll results" in str(c.args.get("blocks"))
            ]
        finally:
            await store.close()
            slack.echo_url = None
            await child.stop()
    await twilio.stop()
    await slack.stop()

    p50, p99 = percentile(latency.from_send, 50), percentile(latency.from_send, 99)
    gap = min_gap(updates)
    facts = machine_facts()
    audience = "listed in to.numbers" if args.numbers_audience else "a tag"
    out(f"## Poll answers ({count:,} answers from {count:,} numbers; audience: {audience})")
    out(f"- machine: {facts}; load average before: {before}, after: {loadavg()}")
    out(f"- campaign texts sent by the bridge first: {count:,} in {send_seconds:.0f} s")
    out(
        f"- answers sent: {latency.sent:,} at {rate:.0f}/s over {latency.elapsed:.1f} s; "
        f"200s: {latency.ok:,}, failed: {latency.failed}"
    )
    out(f"- all tallied: {tally.total:,} of {count:,} ({dict(sorted(tally.counts.items()))})")
    out(
        f"- webhook latency (send → 200): p50 {ms(p50)}, p99 {ms(p99)} "
        f"(target ≤ {ms(TARGET_P99)}: {'met' if p99 <= TARGET_P99 else 'MISSED'})"
    )
    out(
        f"- results message: {len(results_posts)} post, {len(updates)} chat.update calls "
        f"over {span:.0f} s; shortest gap {'-' if gap is None else f'{gap:.2f} s'} "
        f"(target ≥ {UPDATE_SECONDS:.0f} s: "
        f"{'met' if gap is None or gap >= UPDATE_SECONDS - 0.05 else 'MISSED'})"
    )
    out(f"- posts into the inbox: {len(inbox_posts)} (target 0)")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
