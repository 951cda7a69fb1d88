"""What the notification rules decided and what went out: each alert and digest item is
stored once, with its jobs, however often the same run repeats; a digest takes the
items due by its end, once; preferences are each person's."""

from __future__ import annotations

from datetime import time, timedelta

from bridge.jobs import alert_job, digest_job
from bridge.models import (
    Alert,
    Delivery,
    DigestItem,
    DigestPeriod,
    JobKind,
    NotifyMode,
    NotifyPreferences,
)
from bridge.store.base import Store
from tests.contract.conftest import T0

ALERT = Alert(event="message.received", title="Urgent text", text="Help!", urgent=True, at=T0)


def item(number: int, *, to: str = "U1", due_in: int = 30) -> DigestItem:
    period = DigestPeriod(via="email", to=to, due=T0 + timedelta(minutes=due_in))
    return DigestItem(id=f"run{number}:{to}", period=period, alert=ALERT)


async def test_a_run_of_the_rules_is_stored_once_with_its_jobs(store: Store) -> None:
    alert = alert_job(Delivery(via="slack_dm", to=("U1",), alert=ALERT), key="run1:U1:slack_dm")
    digest = digest_job(item(1).period)
    jobs = [(alert, T0), (digest, item(1).period.due)]
    assert await store.dispatch("run1", jobs, [item(1)]) is True
    assert await store.dispatch("run1", jobs, [item(1)]) is False  # the NOTIFY job again
    claimed = await store.claim_jobs("w", now=T0 + timedelta(hours=1), limit=10, lease_seconds=30)
    assert sorted(j.kind for j in claimed) == [JobKind.ALERT, JobKind.DIGEST]
    assert await store.digest_items("email", "U1", due_by=T0 + timedelta(hours=1)) == [item(1)]


async def test_a_burst_is_one_pending_digest_job(store: Store) -> None:
    for number in range(20):
        await store.dispatch(
            f"run{number}", [(digest_job(item(number).period), T0)], [item(number)]
        )
    depth = await store.queue_depth()
    assert depth.get(JobKind.DIGEST.value) == 1
    assert len(await store.digest_items("email", "U1", due_by=T0 + timedelta(hours=1))) == 20


async def test_a_digest_takes_the_items_due_by_its_end_and_sends_them_once(store: Store) -> None:
    for number, due_in in enumerate((30, 30, 90)):
        await store.dispatch(f"run{number}", [], [item(number, due_in=due_in)])
    await store.dispatch("other", [], [item(9, to="U2")])
    due = await store.digest_items("email", "U1", due_by=T0 + timedelta(minutes=30))
    assert [i.id for i in due] == ["run0:U1", "run1:U1"]
    assert not await store.delivered("digest:one")
    await store.finish_digest("digest:one", [i.id for i in due])
    assert await store.delivered("digest:one")
    later = await store.digest_items("email", "U1", due_by=T0 + timedelta(hours=2))
    assert [i.id for i in later] == ["run2:U1"]
    # A late repeat of a run whose items went out adds nothing.
    await store.dispatch("run0", [], [item(0)])
    assert [
        i.id for i in await store.digest_items("email", "U1", due_by=T0 + timedelta(hours=2))
    ] == ["run2:U1"]


async def test_an_alert_is_marked_delivered(store: Store) -> None:
    assert not await store.delivered("alert:k")
    await store.mark_delivered("alert:k")
    await store.mark_delivered("alert:k")  # twice is once
    assert await store.delivered("alert:k")


async def test_preferences_are_each_persons(store: Store) -> None:
    assert await store.notify_preferences("U1") == NotifyPreferences()
    quiet = NotifyPreferences(
        mode=NotifyMode.URGENT_ONLY, quiet_from=time(20, 0), quiet_until=time(7, 0)
    )
    await store.set_notify_preferences("U1", quiet)
    await store.set_notify_preferences("U2", NotifyPreferences(mode=NotifyMode.MUTE))
    assert await store.notify_preferences("U1") == quiet
    assert (await store.notify_preferences("U2")).mode is NotifyMode.MUTE
