"""Lessons agents propose for the assistant: one row per handed-off text."""

from __future__ import annotations

from datetime import datetime

from bridge.models import Lesson, LessonState
from bridge.store.sqlite import rows
from bridge.store.sqlite.connection import SQLiteConnection


class LessonRows(SQLiteConnection):
    """LessonStore on SQLite (the lesson itself is a JSON document in `doc`)."""

    async def propose_lesson(self, lesson: Lesson) -> Lesson | None:
        added = await self._write(
            "INSERT INTO lessons (id, state, proposed_at, doc) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (id) DO NOTHING",
            (lesson.id, lesson.state.value, rows.ts(lesson.proposed_at), lesson.model_dump_json()),
        )
        return lesson if added == 1 else None

    async def get_lesson(self, lesson_id: str) -> Lesson | None:
        row = await self._one("SELECT doc FROM lessons WHERE id = ?", (lesson_id,))
        return None if row is None else Lesson.model_validate_json(row["doc"])

    async def pending_lessons(self, *, limit: int) -> list[Lesson]:
        found = await self._all(
            "SELECT doc FROM lessons WHERE state = ? ORDER BY proposed_at, id LIMIT ?",
            (LessonState.PENDING.value, limit),
        )
        return [Lesson.model_validate_json(row["doc"]) for row in found]

    async def decide_lesson(
        self, lesson_id: str, state: LessonState, *, by: str, at: datetime
    ) -> Lesson | None:
        async with self._tx() as db:
            row = await rows.fetchone(
                db,
                "SELECT doc FROM lessons WHERE id = ? AND state = ?",
                (lesson_id, LessonState.PENDING.value),
            )
            if row is None:
                return None
            decided = Lesson.model_validate_json(row["doc"]).model_copy(
                update={"state": state, "decided_by": by, "decided_at": at}
            )
            await db.execute(
                "UPDATE lessons SET state = ?, doc = ? WHERE id = ?",
                (state.value, decided.model_dump_json(), lesson_id),
            )
        return decided
