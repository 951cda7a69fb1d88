"""What agents did with each knowledge-base entry's drafts: counters per entry."""

from __future__ import annotations

from collections.abc import Sequence

from bridge.models import DraftOutcome, EntryOutcomes
from bridge.store.sqlite import rows
from bridge.store.sqlite.connection import SQLiteConnection


class DraftTallyRows(SQLiteConnection):
    """DraftTallyStore on SQLite."""

    async def count_draft_outcome(self, entry_ids: Sequence[str], outcome: DraftOutcome) -> None:
        column = outcome.value  # an enum's value: never text from outside
        async with self._tx() as db:
            for entry_id in dict.fromkeys(entry_ids):
                await db.execute(
                    f"INSERT INTO draft_outcomes (entry_id, {column}) VALUES (?, 1)"
                    f" ON CONFLICT (entry_id) DO UPDATE SET {column} = {column} + 1",
                    (entry_id,),
                )

    async def draft_outcomes(self, *, limit: int) -> list[EntryOutcomes]:
        async with self._lock:
            found = await rows.fetchall(
                self.db,
                "SELECT entry_id, sent, edited, discarded FROM draft_outcomes"
                " WHERE edited + discarded > 0 ORDER BY (edited + discarded) DESC, entry_id"
                " LIMIT ?",
                (limit,),
            )
        return [
            EntryOutcomes(
                entry_id=row["entry_id"],
                sent=row["sent"],
                edited=row["edited"],
                discarded=row["discarded"],
            )
            for row in found
        ]
