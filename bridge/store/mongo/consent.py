"""The consent ledger, insert-only."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import ASCENDING
from pymongo.errors import BulkWriteError

from bridge.models import (
    Channel,
    ConsentEvent,
    ConsentKind,
    ConsentState,
)
from bridge.store.mongo import documents
from bridge.store.mongo.connection import DUPLICATE_KEY, MongoConnection
from bridge.store.mongo.documents import Doc


class ConsentDocuments(MongoConnection):
    """ConsentStore on MongoDB."""

    # Each event is one insert; there is no update or delete of the ledger anywhere in
    # this engine. Append order is a `seq` from the counters collection (ObjectIds
    # of several processes are not ordered within a second). A batch is not atomic:
    # after a crash in the middle, a retry skips the events with a ref that got in,
    # but appends those without a ref again (as would any repeat of them).

    async def record_consent(self, events: Sequence[ConsentEvent]) -> int:
        # Within the batch, the first of a (ref, kind) wins, as the later ones would
        # be skipped were they appended one by one.
        batch: list[ConsentEvent] = []
        seen: set[tuple[str, str]] = set()
        for event in events:
            if event.ref is not None:
                if (event.ref, event.kind.value) in seen:
                    continue
                seen.add((event.ref, event.kind.value))
            batch.append(event)
        if not batch:
            return 0
        last = await self._next("consent_events", len(batch))
        entries = [
            documents.consent_doc(event, seq)
            for seq, event in enumerate(batch, start=last - len(batch) + 1)
        ]
        try:
            await self._consent_events.insert_many(entries, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise
            return int(exc.details.get("nInserted", len(batch) - len(errors)))
        return len(batch)

    async def consent_state(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> ConsentState:
        latest: dict[ConsentKind, Doc] = {}
        for kind in ConsentKind:
            doc: Doc | None = await self._consent_events.find_one(
                documents.addresses(channel, business_number, subscriber) | {"kind": kind.value},
                projection={"granted": True, "at": True},
                sort=documents.LATEST,
            )
            if doc is not None:
                latest[kind] = doc
        conversational = latest.get(ConsentKind.CONVERSATIONAL)
        marketing = latest.get(ConsentKind.MARKETING)
        allowed = conversational is None or bool(conversational["granted"])
        return ConsentState(
            conversational=allowed,
            marketing=marketing is not None and bool(marketing["granted"]),
            revoked_at=None
            if allowed or conversational is None
            else documents.aware(conversational["at"]),
        )

    async def consent_log(self) -> list[ConsentEvent]:
        cursor = self._consent_events.find({}, sort=[("at", ASCENDING), ("seq", ASCENDING)])
        return [documents.consent_event(doc) async for doc in cursor]
