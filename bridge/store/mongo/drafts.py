"""The assistant's drafts on inbound texts."""

from __future__ import annotations

from datetime import datetime

from pymongo import ReturnDocument

from bridge.models import (
    DraftState,
    Intent,
    Message,
    MessageDraft,
    Urgency,
    utcnow,
)
from bridge.store import effects
from bridge.store.mongo import documents
from bridge.store.mongo.connection import MongoConnection
from bridge.store.mongo.documents import Doc


class DraftDocuments(MongoConnection):
    """DraftStore on MongoDB."""

    async def save_draft(
        self, message_id: str, draft: MessageDraft, *, intent: Intent, urgency: Urgency
    ) -> Message | None:
        # The draft is the durable write; its event's job follows it (a crash between
        # the two loses that notification, never the draft).
        result = await self._messages.update_one(
            {"_id": message_id, "draft": None},  # null or missing: the first draft wins
            {
                "$set": {
                    "draft": draft.model_dump(mode="json"),
                    "intent": intent,
                    "urgency": urgency,
                }
            },
        )
        doc: Doc | None = await self._messages.find_one({"_id": message_id})
        saved = None if doc is None else documents.message(doc)
        if result.matched_count == 1 and saved is not None:  # this draft, the first one
            jobs = effects.after_draft(saved, publishing=self.publishing)
            if jobs:
                await self._insert_jobs(await self._job_docs(jobs, run_at=documents.ms(utcnow())))
        return saved

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
        change: Doc = {
            "draft.state": state.value,
            "draft.settled_by": by,
            "draft.settled_at": None if at is None else at.isoformat(),
            "draft.sent_text": sent_text,
        }
        if note is not None:
            change["draft.note"] = note
        doc: Doc | None = await self._messages.find_one_and_update(
            {"_id": message_id, "draft.state": expect.value},
            {"$set": change},
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else documents.message(doc)

    async def set_draft_slack_ts(self, message_id: str, ts: str) -> None:
        await self._messages.update_one(
            {"_id": message_id, "draft": {"$ne": None}}, {"$set": {"draft.slack_ts": ts}}
        )
