"""Teams' threads and their assignment bookkeeping."""

from __future__ import annotations

from collections.abc import Sequence

from bridge.events import ConversationRouted
from bridge.models import utcnow
from bridge.store import effects
from bridge.store.sqlite import rows
from bridge.store.sqlite.connection import SQLiteConnection
from bridge.store.sqlite.jobs import enqueue_in


class RoutingRows(SQLiteConnection):
    """RoutingStore on SQLite."""

    async def route_thread(
        self,
        conversation_id: int,
        channel: str,
        thread_ts: str,
        *,
        replacing: str | None,
        routed: ConversationRouted,
    ) -> bool:
        async with self._tx() as db:
            cur = await db.execute(
                "UPDATE conversations SET slack_channel = ?, slack_thread_ts = ?, team = ?"
                " WHERE id = ? AND slack_thread_ts IS ?",
                (channel, thread_ts, routed.team, conversation_id, replacing),
            )
            if cur.rowcount != 1:
                return False
            for job in effects.after_routed(routed, thread_ts, publishing=self.publishing):
                await enqueue_in(db, job, run_at=rows.ts(utcnow()))
        return True

    async def open_assigned(self, assignees: Sequence[str]) -> dict[str, int]:
        counts = dict.fromkeys(assignees, 0)
        if not assignees:
            return counts
        found = await self._all(
            "SELECT assignee, count(*) FROM conversations"  # noqa: S608 - placeholders only
            f" WHERE assignee IN {rows.ONE_OF} AND status = 'open'"
            " GROUP BY assignee",
            (rows.listed(assignees),),
        )
        counts.update({row[0]: row[1] for row in found})
        return counts
