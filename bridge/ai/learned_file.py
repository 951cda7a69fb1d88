"""Writes what an admin approved to `learned.yml` in the knowledge folder: a YAML list of
`{id, q, a, alt}` like any knowledge file, reviewable in git, read by the loader last.

A phrasing of an existing entry is written as that entry's question and answer with the
customer's wording in `alt` (the loader merges it into the entry by its question); a
lesson whose question the file already asks adds its wording to that item, never a second
one. The file is checked with the loader's own parser first (a hand edit that broke it is
refused with file:line and left alone) and replaced atomically: a temp file beside it
(a dot name, which the loader skips), fsynced, then renamed over it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bridge.ai.knowledge import (
    LEARNED_FILE,
    KnowledgeBase,
    KnowledgeError,
    load_knowledge,
    question_key,
    slug,
)
from bridge.models import Lesson

__all__ = ["LEARNED_FILE", "write_lesson"]


def _item(lesson: Lesson, knowledge: KnowledgeBase) -> dict[str, Any]:
    if lesson.entry_id is None:
        assert lesson.answer is not None  # a new entry has its answer
        return {"id": slug(lesson.question), "q": lesson.question, "a": lesson.answer, "alt": []}
    entry = knowledge.get(lesson.entry_id)
    if entry is None:
        raise KnowledgeError(
            LEARNED_FILE, None, f"{lesson.entry_id} is no longer in the knowledge base"
        )
    return {"id": slug(entry.id), "q": entry.title, "a": entry.answer, "alt": [lesson.question]}


def _read(file: Path) -> list[dict[str, Any]]:
    if not file.exists():
        return []
    load_knowledge(file)  # the loader's checks: KnowledgeError names file:line
    items = yaml.safe_load(file.read_text(encoding="utf-8-sig")) or []
    for item in items:
        alt = item.get("alt")
        item["alt"] = [] if alt is None else [alt] if isinstance(alt, str) else list(alt)
    return list(items)


def write_lesson(folder: Path, lesson: Lesson, knowledge: KnowledgeBase) -> Path:
    """Add an approved lesson to `folder`/learned.yml; blocking (run it in a thread)."""
    file = folder / LEARNED_FILE
    items = _read(file)
    new = _item(lesson, knowledge)
    key = question_key(new["q"])
    same = next((item for item in items if question_key(str(item["q"])) == key), None)
    if same is None:
        taken = {str(item.get("id")) for item in items}
        base, n = new["id"], 2
        while new["id"] in taken:
            new["id"], n = f"{base}-{n}", n + 1
        items.append(new)
    else:
        have = {question_key(str(text)) for text in (same["q"], *same["alt"])}
        same["alt"] += [text for text in new["alt"] if question_key(text) not in have]
    _replace(file, yaml.safe_dump(items, sort_keys=False, allow_unicode=True, width=100))
    return file


def _replace(file: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, file)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
