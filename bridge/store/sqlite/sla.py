"""The first-response timer: the text a conversation waits with, and breaches, one
row per wait."""

from __future__ import annotations

from bridge.events import SlaBreached
from bridge.models import DeliveryStatus, KeywordMark, Message, utcnow
from bridge.store import effects
from bridge.store.sqlite import rows
from bridge.store.sqlite.connection import SQLiteConnection
from bridge.store.sqlite.jobs import insert_jobs

# Keywords are no question to answer; replies in these states did not answer. Bound as
# lists (`rows.ONE_OF`), made once.
_KEYWORDS = rows.listed(mark.value for mark in KeywordMark if mark.replaces_post)
_UNSENT = rows.listed(
    status.value
    for status in (DeliveryStatus.HELD, DeliveryStatus.CANCELLED, DeliveryStatus.BLOCKED)
)


class SlaRows(SQLiteConnection):
    """SlaStore on SQLite."""

    async def waiting_since(self, conversation_id: int) -> Message | None:
        row = await self._one(
            f"""
            SELECT * FROM messages
            WHERE conversation_id = ? AND direction = 'inbound'
              AND (keyword IS NULL OR keyword NOT IN {rows.ONE_OF})
              AND created_at > coalesce(
                (SELECT max(created_at) FROM messages
                 WHERE conversation_id = ? AND direction = 'outbound' AND author IS NOT NULL
                   AND status NOT IN {rows.ONE_OF}), 0)
            ORDER BY created_at LIMIT 1
            """,  # noqa: S608
            (conversation_id, _KEYWORDS, conversation_id, _UNSENT),
        )
        return None if row is None else rows.message(row)

    async def record_breach(self, breach: SlaBreached) -> bool:
        async with self._tx() as db:
            cur = await db.execute(
                "INSERT INTO sla_breaches (message_id, conversation_id, deadline)"
                " VALUES (?, ?, ?) ON CONFLICT (message_id) DO NOTHING",
                (breach.message_id, breach.conversation_id, rows.ts(breach.deadline)),
            )
            if cur.rowcount == 0:
                return False
            now = rows.ts(utcnow())
            jobs = effects.after_breach(breach, publishing=self.publishing)
            await insert_jobs(db, [(job, now) for job in jobs])
        return True
