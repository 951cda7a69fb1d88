"""Keeps the knowledge base current: reloads it when its files change (polled) or on
`/sms kb reload`, and indexes the new version before drafts use it. A broken edit keeps
the previous base and says where the error is (file:line)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import structlog

from bridge.ai.knowledge import KnowledgeBase, KnowledgeError, KnowledgeSource
from bridge.ai.offline import OfflineDrafter
from bridge.events import KnowledgeNotReloaded, KnowledgeReloaded, KnowledgeStatus
from bridge.metrics import Metrics

log = structlog.get_logger(__name__)


class KnowledgeReloader:
    def __init__(self, source: KnowledgeSource, offline: OfflineDrafter, metrics: Metrics) -> None:
        self._source = source
        self._offline = offline
        self._metrics = metrics
        self._lock = asyncio.Lock()

    async def load(self) -> KnowledgeBase:
        """At start: raises KnowledgeError (the caller names the setting)."""
        knowledge = await asyncio.to_thread(self._source.load)
        await self._ready(knowledge)
        return knowledge

    async def _ready(self, knowledge: KnowledgeBase) -> None:
        await asyncio.to_thread(self._offline.prepare, knowledge)
        self._metrics.kb_entries.set(len(knowledge))

    async def _apply(self, load: Callable[[], KnowledgeBase | None]) -> KnowledgeBase | None:
        """Load in a thread and index what was loaded; a KnowledgeError is counted and
        raised, leaving the previous base in use."""
        async with self._lock:
            try:
                knowledge = await asyncio.to_thread(load)
            except KnowledgeError:
                self._metrics.kb_reloads.labels("error").inc()
                raise
            if knowledge is not None:
                await self._ready(knowledge)
                self._metrics.kb_reloads.labels("ok").inc()
            return knowledge

    async def reload(self) -> KnowledgeReloaded | KnowledgeNotReloaded:
        """Reload now, whatever changed; the answer for the person who asked."""
        try:
            knowledge = await self._apply(self._source.load)
        except KnowledgeError as exc:
            return self.not_reloaded(exc)
        assert knowledge is not None  # load() returns the base or raises
        return KnowledgeReloaded(entries=len(knowledge), warnings=len(knowledge.warnings))

    def not_reloaded(self, exc: KnowledgeError) -> KnowledgeNotReloaded:
        """A knowledge file's problem as the person who asked is told it."""
        return KnowledgeNotReloaded(
            where=self._shown(exc.where), line=exc.line, problem=exc.problem
        )

    def title(self, entry_id: str) -> str | None:
        """The question or heading of an entry of the current base (None: not in it)."""
        entry = self._source.current.get(entry_id)
        return entry.title if entry is not None else None

    async def check(self) -> None:
        """One poll: reload if the files changed."""
        try:
            knowledge = await self._apply(self._source.reload_if_changed)
        except KnowledgeError as exc:
            log.error("knowledge base not reloaded", error=str(exc))
            return
        if knowledge is not None:
            log.info("knowledge base reloaded", entries=len(knowledge))

    async def watch(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.check()

    def status(self) -> KnowledgeStatus:
        path = self._source.path
        shown = self._shown(str(path)) if path is not None else None
        return KnowledgeStatus(entries=len(self._source.current), source=shown)

    def _shown(self, where: str) -> str:
        """A knowledge file or folder as Slack shows it: relative to the config's folder,
        else its name; the server's own layout is not for the workspace to read."""
        path, folder = Path(where), self._source.within
        for candidate in (path.absolute(), path.resolve()):
            if folder is not None and candidate.is_relative_to(folder):
                relative = candidate.relative_to(folder).as_posix()
                return relative if relative != "." else "the config's folder"
        return path.name or where
