"""The consent ledger: appending, deduplication and the derived state, on every engine."""

from __future__ import annotations

import asyncio
import inspect
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from bridge.models import ConsentEvent, ConsentKind, ConsentSource, ConsentState
from bridge.store.base import Store
from tests.contract.conftest import BUSINESS, SUBSCRIBER, T0, StoreFactory

CONVERSATIONAL, MARKETING = ConsentKind.CONVERSATIONAL, ConsentKind.MARKETING
T1, T2, T3 = (T0 + timedelta(minutes=n) for n in (1, 2, 3))
OTHER_SUBSCRIBER = "+15551230002"
OTHER_BUSINESS = "+15005550007"


def event(
    granted: bool,
    *,
    at: datetime = T0,
    kind: ConsentKind = CONVERSATIONAL,
    ref: str | None = None,
    source: ConsentSource = ConsentSource.KEYWORD,
    subscriber: str = SUBSCRIBER,
    business: str = BUSINESS,
    evidence: str = "",
) -> ConsentEvent:
    return ConsentEvent(
        business_number=business,
        subscriber=subscriber,
        kind=kind,
        granted=granted,
        source=source,
        at=at,
        evidence=evidence,
        ref=ref,
    )


def revoke(**fields: Any) -> ConsentEvent:
    return event(False, **fields)


def grant(**fields: Any) -> ConsentEvent:
    return event(True, **fields)


async def state(
    store: Store, subscriber: str = SUBSCRIBER, business: str = BUSINESS
) -> ConsentState:
    return await store.consent_state(business, subscriber)


# --- appending and deduplication ------------------------------------------------------


async def test_an_empty_ledger_gives_the_defaults(store: Store) -> None:
    assert await state(store) == ConsentState(conversational=True, marketing=False)
    assert (await state(store)).revoked_at is None
    assert await store.consent_log() == []
    assert await store.record_consent([]) == 0
    assert await store.consent_log() == []


async def test_record_consent_keeps_every_field(store: Store) -> None:
    events = [
        revoke(ref="SM1", evidence="STOP", at=T0),
        grant(
            kind=MARKETING,
            source=ConsentSource.IMPORT,
            evidence="contacts.csv row 7",
            ref="import:7",
            at=T1,
        ),
        revoke(source=ConsentSource.AGENT, evidence="U123", at=T2),
        revoke(source=ConsentSource.PHRASE, evidence="please stop", ref="SM2", at=T3),
        grant(source=ConsentSource.CARRIER, at=T3 + timedelta(seconds=1)),
    ]

    assert await store.record_consent(events) == len(events)

    assert await store.consent_log() == events


async def test_a_known_ref_and_kind_is_skipped(store: Store) -> None:
    first = revoke(ref="SM1", at=T0, evidence="STOP")
    assert await store.record_consent([first]) == 1

    # The same ref and kind again, even with other content: nothing changes.
    assert await store.record_consent([first]) == 0
    assert await store.record_consent([grant(ref="SM1", at=T1, evidence="START")]) == 0

    assert await store.consent_log() == [first]
    assert (await state(store)).conversational is False


async def test_a_known_ref_of_another_kind_is_new(store: Store) -> None:
    conversational = revoke(ref="SM1", kind=CONVERSATIONAL)
    marketing = revoke(ref="SM1", kind=MARKETING)

    assert await store.record_consent([conversational]) == 1
    assert await store.record_consent([marketing, conversational]) == 1

    assert await store.consent_log() == [conversational, marketing]


async def test_within_one_batch_the_first_of_a_ref_and_kind_counts(store: Store) -> None:
    first = revoke(ref="SM1", at=T0, evidence="STOP")
    again = grant(ref="SM1", at=T1, evidence="START")

    assert await store.record_consent([first, again]) == 1

    assert await store.consent_log() == [first]
    assert (await state(store)).conversational is False


async def test_events_without_a_ref_are_never_deduplicated(store: Store) -> None:
    anonymous = revoke(source=ConsentSource.AGENT, evidence="U1")

    assert await store.record_consent([anonymous, anonymous]) == 2
    assert await store.record_consent([anonymous]) == 1

    assert await store.consent_log() == [anonymous] * 3


async def test_a_mixed_batch_counts_only_the_new_events(store: Store) -> None:
    known = revoke(ref="SM1", at=T0)
    await store.record_consent([known])
    new = grant(ref="SM2", at=T1)
    anonymous = grant(kind=MARKETING, at=T2)

    added = await store.record_consent([known, new, anonymous, new, anonymous, known])

    assert added == 3
    assert await store.consent_log() == [known, new, anonymous, anonymous]


async def test_concurrent_records_of_one_ref_add_it_once(new_store: StoreFactory) -> None:
    one, two = await new_store(), await new_store()
    stop = revoke(ref="SM1")

    added = await asyncio.gather(*(s.record_consent([stop]) for s in (one, two, one, two)))

    assert sum(added) == 1
    assert await one.consent_log() == [stop]
    assert await two.consent_log() == [stop]


async def test_the_ledger_outlives_the_process(new_store: StoreFactory) -> None:
    first = await new_store()
    await first.record_consent([revoke(ref="SM1", at=T1)])

    second = await new_store()

    assert await second.record_consent([revoke(ref="SM1", at=T2)]) == 0
    assert await second.consent_log() == [revoke(ref="SM1", at=T1)]
    assert (await state(second)).revoked_at == T1


async def test_history_cannot_be_changed_through_the_store(store: Store) -> None:
    """The ledger is append-only: the port offers appending and reading, nothing
    that updates or deletes, and appending never alters what is there."""
    consent_api = {name for name in dir(Store) if "consent" in name}
    assert consent_api == {"record_consent", "consent_state", "consent_log"}
    public = {name for name, _ in inspect.getmembers(type(store)) if not name.startswith("_")}
    assert {name for name in public if "consent" in name} == consent_api

    history = [revoke(ref="SM1", at=T1), grant(ref="SM2", at=T2)]
    await store.record_consent(history)
    # A conflicting copy of a known event, and events before and between the known ones.
    await store.record_consent(
        [grant(ref="SM1", at=T1), grant(at=T0), grant(kind=MARKETING, at=T1)]
    )

    log = await store.consent_log()
    assert len(log) == 4
    assert [e for e in log if e.ref is not None] == history


# --- the derived state ------------------------------------------------------------------


async def test_a_revocation_then_an_opt_in(store: Store) -> None:
    await store.record_consent([revoke(ref="SM1", at=T1)])
    assert await state(store) == ConsentState(conversational=False, marketing=False, revoked_at=T1)

    await store.record_consent([grant(ref="SM2", at=T2)])
    assert await state(store) == ConsentState(conversational=True, marketing=False)

    await store.record_consent([revoke(ref="SM3", at=T3)])
    assert await state(store) == ConsentState(conversational=False, revoked_at=T3)


async def test_the_latest_event_decides_not_the_last_appended(store: Store) -> None:
    # Delivered out of order: the opt-in at T2 is appended before the STOP at T1.
    await store.record_consent([grant(ref="SM2", at=T2)])
    await store.record_consent([revoke(ref="SM1", at=T1)])
    assert await state(store) == ConsentState(conversational=True)

    await store.record_consent([revoke(ref="SM4", at=T3), grant(ref="SM3", at=T2)])
    assert await state(store) == ConsentState(conversational=False, revoked_at=T3)


async def test_same_time_ties_go_to_the_later_append(store: Store) -> None:
    await store.record_consent([revoke(ref="SM1", at=T1), grant(ref="SM2", at=T1)])
    assert await state(store) == ConsentState(conversational=True)

    await store.record_consent([revoke(source=ConsentSource.AGENT, at=T1)])
    assert await state(store) == ConsentState(conversational=False, revoked_at=T1)

    await store.record_consent([grant(kind=MARKETING, at=T1), revoke(kind=MARKETING, at=T1)])
    assert (await state(store)).marketing is False
    await store.record_consent([grant(kind=MARKETING, at=T1)])
    assert (await state(store)).marketing is True


async def test_marketing_is_decided_apart_from_conversational(store: Store) -> None:
    await store.record_consent([grant(kind=MARKETING, ref="web:1", at=T0)])
    assert await state(store) == ConsentState(conversational=True, marketing=True)

    # A conversational revocation decides conversational only (and sets revoked_at).
    await store.record_consent([revoke(ref="SM1", at=T1)])
    assert await state(store) == ConsentState(conversational=False, marketing=True, revoked_at=T1)

    # A marketing revocation never sets revoked_at, nor touches conversational.
    await store.record_consent([grant(ref="SM2", at=T2), revoke(kind=MARKETING, at=T3)])
    assert await state(store) == ConsentState(conversational=True, marketing=False)


async def test_marketing_revoked_without_a_grant_stays_off(store: Store) -> None:
    await store.record_consent([revoke(kind=MARKETING, ref="SM1", at=T1)])
    assert await state(store) == ConsentState(conversational=True, marketing=False)


async def test_state_is_per_business_number_and_subscriber(store: Store) -> None:
    await store.record_consent(
        [
            revoke(ref="SM1", at=T1),
            grant(kind=MARKETING, ref="SM1", at=T1),
            revoke(subscriber=OTHER_SUBSCRIBER, business=OTHER_BUSINESS, at=T2),
        ]
    )

    assert await state(store) == ConsentState(conversational=False, marketing=True, revoked_at=T1)
    assert await state(store, subscriber=OTHER_SUBSCRIBER) == ConsentState()
    assert await state(store, business=OTHER_BUSINESS) == ConsentState()
    assert await state(store, OTHER_SUBSCRIBER, OTHER_BUSINESS) == ConsentState(
        conversational=False, revoked_at=T2
    )


# --- the log ------------------------------------------------------------------------------


async def test_the_log_is_oldest_first_then_in_append_order(store: Store) -> None:
    b = grant(ref="b", at=T2)
    a = revoke(ref="a", at=T1, subscriber=OTHER_SUBSCRIBER)
    c1 = revoke(ref="c1", at=T3, kind=MARKETING)
    c2 = grant(at=T3, business=OTHER_BUSINESS)
    z = revoke(ref="z", at=T0)
    c3 = grant(ref="c3", at=T3)

    await store.record_consent([b, a, c1])
    await store.record_consent([c2, z])
    await store.record_consent([c3])

    assert await store.consent_log() == [z, a, b, c1, c2, c3]


async def test_datetimes_in_the_ledger_come_back_aware_utc(store: Store) -> None:
    at = T1.astimezone(timezone(timedelta(hours=-5)))
    await store.record_consent([revoke(ref="SM1", at=at)])

    [logged] = await store.consent_log()
    revoked_at = (await state(store)).revoked_at

    for value in (logged.at, revoked_at):
        assert value == T1
        assert value is not None
        assert value.utcoffset() == timedelta(0)


@pytest.mark.parametrize("source", list(ConsentSource))
async def test_every_source_round_trips(store: Store, source: ConsentSource) -> None:
    recorded = revoke(source=source, ref=f"ref:{source.value}", evidence=source.name)
    await store.record_consent([recorded])
    assert await store.consent_log() == [recorded]
