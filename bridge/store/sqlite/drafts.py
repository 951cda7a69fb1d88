"""The assistant's drafts on inbound texts."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bridge.models import (
    DraftState,
    Intent,
    Message,
    MessageDraft,
    Urgency,
    utcnow,
)
from bridge.store import effects
from bridge.store.sqlite import rows
from bridge.store.sqlite.connection import SQLiteConnection
from bridge.store.sqlite.jobs import enqueue_now


class DraftRows(SQLiteConnection):
    """DraftStore on SQLite."""

    async def save_draft(
        self, message_id: str, draft: MessageDraft, *, intent: Intent, urgency: Urgency
    ) -> Message | None:
        stored = draft.model_dump_json()
        run_at = rows.ts(utcnow())

        def save(db: sqlite3.Connection) -> Message | None:
            cur = db.execute(
                "UPDATE messages SET draft = ?, intent = ?, urgency = ?"
                " WHERE id = ? AND draft IS NULL",
                (stored, intent, urgency, message_id),
            )
            row = rows.one(db, "SELECT * FROM messages WHERE id = ?", (message_id,))
            saved = None if row is None else rows.message(row)
            if cur.rowcount == 1 and saved is not None:  # this draft, the first one
                for job in effects.after_draft(saved, publishing=self.publishing):
                    enqueue_now(db, job, run_at=run_at)
            return saved

        # Every drafted text: one trip to the database thread.
        return await self._transaction(save)

    async def settle_draft(
        self,
        message_id: str,
        state: DraftState,
        *,
        by: str | None,
        at: datetime | None,
        expect: DraftState = DraftState.PROPOSED,
        sent_text: str | None = None,
        note: str | None = None,
    ) -> Message | None:
        async with self._tx() as db:
            row = await rows.fetchone(db, "SELECT * FROM messages WHERE id = ?", (message_id,))
            message = None if row is None else rows.message(row)
            if message is None or message.draft is None or message.draft.state is not expect:
                return None
            update: dict[str, object] = {
                "state": state,
                "settled_by": by,
                "settled_at": at,
                "sent_text": sent_text,
            }
            if note is not None:
                update["note"] = note
            draft = message.draft.model_copy(update=update)
            await db.execute(
                "UPDATE messages SET draft = ? WHERE id = ?", (draft.model_dump_json(), message_id)
            )
        return message.model_copy(update={"draft": draft})

    async def set_draft_slack_ts(self, message_id: str, ts: str) -> None:
        await self._write(
            "UPDATE messages SET draft = json_set(draft, '$.slack_ts', ?)"
            " WHERE id = ? AND draft IS NOT NULL",
            (ts, message_id),
        )
