"""The consent ledger, append-only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import aiosqlite

from bridge.models import (
    Channel,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentState,
)
from bridge.store.sqlite import rows
from bridge.store.sqlite.connection import SQLiteConnection


class ConsentRows(SQLiteConnection):
    """ConsentStore on SQLite."""

    async def record_consent(self, events: Sequence[ConsentEvent]) -> int:
        async with self._tx() as db:
            added = 0
            for event in events:
                cur = await db.execute(
                    "INSERT INTO consent_events (channel, business_number, subscriber, kind,"
                    " granted, source, at, evidence, ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (ref, kind) WHERE ref IS NOT NULL DO NOTHING",
                    (
                        event.channel.value,
                        event.business_number,
                        event.subscriber,
                        event.kind.value,
                        int(event.granted),
                        event.source.value,
                        rows.ts(event.at),
                        event.evidence,
                        event.ref,
                    ),
                )
                added += cur.rowcount
        return added

    async def consent_state(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> ConsentState:
        latest: dict[str, aiosqlite.Row] = {}
        async with self._lock:
            for kind in ConsentKind:
                row = await rows.fetchone(
                    self.db,
                    "SELECT granted, at FROM consent_events WHERE channel = ?"
                    " AND business_number = ? AND subscriber = ? AND kind = ?"
                    " ORDER BY at DESC, id DESC LIMIT 1",
                    (channel.value, business_number, subscriber, kind.value),
                )
                if row is not None:
                    latest[kind.value] = row
        conversational = latest.get(ConsentKind.CONVERSATIONAL.value)
        marketing = latest.get(ConsentKind.MARKETING.value)
        allowed = conversational is None or bool(conversational["granted"])
        return ConsentState(
            conversational=allowed,
            marketing=marketing is not None and bool(marketing["granted"]),
            revoked_at=None if allowed or conversational is None else rows.dt(conversational["at"]),
        )

    async def consent_log(self) -> list[ConsentEvent]:
        found = await self._all("SELECT * FROM consent_events ORDER BY at, id")
        return [
            ConsentEvent(
                channel=Channel(row["channel"]),
                business_number=row["business_number"],
                subscriber=row["subscriber"],
                kind=ConsentKind(row["kind"]),
                granted=bool(row["granted"]),
                source=ConsentSource(row["source"]),
                at=datetime.fromtimestamp(row["at"], UTC),
                evidence=row["evidence"],
                ref=row["ref"],
            )
            for row in found
        ]
