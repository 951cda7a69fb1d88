"""What agents did with each knowledge-base entry's drafts: counters per entry."""

from __future__ import annotations

from collections.abc import Sequence

from bridge.models import DraftOutcome, EntryOutcomes
from bridge.store.sqlite.connection import SQLiteConnection

_COUNT = {
    outcome: f"INSERT INTO draft_outcomes (entry_id, {outcome.value}) VALUES (?, 1)"  # noqa: S608
    f" ON CONFLICT (entry_id) DO UPDATE SET {outcome.value} = {outcome.value} + 1"
    for outcome in DraftOutcome
}  # the enum's own values: no text from outside reaches the statement


class DraftTallyRows(SQLiteConnection):
    """DraftTallyStore on SQLite."""

    async def count_draft_outcome(self, entry_ids: Sequence[str], outcome: DraftOutcome) -> None:
        async with self._tx() as db:
            for entry_id in dict.fromkeys(entry_ids):
                await db.execute(_COUNT[outcome], (entry_id,))

    async def draft_outcomes(self, *, limit: int) -> list[EntryOutcomes]:
        found = await self._all(
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
