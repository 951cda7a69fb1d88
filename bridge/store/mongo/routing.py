"""Teams' threads and their assignment bookkeeping."""

from __future__ import annotations

from collections.abc import Sequence

from bridge.events import ConversationRouted
from bridge.models import utcnow
from bridge.store import effects
from bridge.store.mongo import documents
from bridge.store.mongo.connection import MongoConnection


class RoutingDocuments(MongoConnection):
    """RoutingStore on MongoDB."""

    async def route_thread(
        self,
        conversation_id: int,
        channel: str,
        thread_ts: str,
        *,
        replacing: str | None,
        routed: ConversationRouted,
    ) -> bool:
        # The conversation is the durable write; the note's job follows it (a crash
        # between the two loses the note, never the thread), as save_draft's does.
        result = await self._conversations.update_one(
            {"_id": conversation_id, "slack_thread_ts": replacing},
            {"$set": {"slack_channel": channel, "slack_thread_ts": thread_ts, "team": routed.team}},
        )
        if result.matched_count != 1:
            return False
        jobs = effects.after_routed(routed, thread_ts, publishing=self.publishing)
        await self._insert_jobs(await self._job_docs(jobs, run_at=documents.ms(utcnow())))
        return True

    async def open_assigned(self, assignees: Sequence[str]) -> dict[str, int]:
        # One count per member (a team is a few people), each served by the inboxes'
        # (status, assignee, …) index.
        return {
            assignee: await self._conversations.count_documents(
                {"status": documents.OPEN, "assignee": assignee}
            )
            for assignee in dict.fromkeys(assignees)
        }
