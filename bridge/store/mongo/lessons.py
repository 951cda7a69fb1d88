"""Lessons agents propose for the assistant: one document per handed-off text."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from bridge.models import Lesson, LessonState
from bridge.store.mongo.connection import MongoConnection
from bridge.store.mongo.documents import Doc, aware, aware_or_none, ms


def _doc(lesson: Lesson) -> Doc:
    doc = lesson.model_dump(mode="python")
    doc["_id"] = doc.pop("id")
    doc["proposed_at"] = ms(lesson.proposed_at)
    doc["state"] = lesson.state.value
    return doc


def _lesson(doc: Doc) -> Lesson:
    return Lesson.model_validate(
        {
            **{k: v for k, v in doc.items() if k != "_id"},
            "id": doc["_id"],
            "proposed_at": aware(doc["proposed_at"]),
            "decided_at": aware_or_none(doc.get("decided_at")),
        }
    )


class LessonDocuments(MongoConnection):
    """LessonStore on MongoDB."""

    async def propose_lesson(self, lesson: Lesson) -> Lesson | None:
        doc = _doc(lesson)
        try:
            await self._coll("lessons").insert_one(doc)
        except DuplicateKeyError:
            return None
        return _lesson(doc)

    async def get_lesson(self, lesson_id: str) -> Lesson | None:
        doc = await self._coll("lessons").find_one({"_id": lesson_id})
        return None if doc is None else _lesson(doc)

    async def pending_lessons(self, *, limit: int) -> list[Lesson]:
        cursor = (
            self._coll("lessons")
            .find({"state": LessonState.PENDING.value})
            .sort([("proposed_at", ASCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return [_lesson(doc) async for doc in cursor]

    async def decide_lesson(
        self, lesson_id: str, state: LessonState, *, by: str, at: datetime
    ) -> Lesson | None:
        doc = await self._coll("lessons").find_one_and_update(
            {"_id": lesson_id, "state": LessonState.PENDING.value},
            {"$set": {"state": state.value, "decided_by": by, "decided_at": ms(at)}},
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else _lesson(doc)
