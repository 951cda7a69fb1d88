"""Jobs ALERT and DIGEST: a via delivers, and the store records that it did, so a job
that runs again (a retry after the via's answer was lost, a crash) sends nothing twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

import structlog

from bridge.delivery.errors import GiveUp
from bridge.jobs import digest_job
from bridge.models import Delivery, DigestPeriod, Job, utcnow
from bridge.notify.via import Digest, Via, Vias
from bridge.store.base import JobStore, NotificationStore

log = structlog.get_logger(__name__)

# Items that came in while their digest was going out wait this long for the next one.
LATE_ITEMS_WAIT = timedelta(minutes=1)


class _Store(NotificationStore, JobStore, Protocol):
    """The store roles this module uses."""


class Deliveries:
    def __init__(self, store: _Store, vias: Vias) -> None:
        self._store = store
        self._vias = vias

    def _via(self, name: str) -> Via | None:
        via = self._vias.get(name)
        if via is None:  # taken out of the configuration since
            log.warning("notify.via_gone", via=name)
        return via

    async def alert(self, job: Job) -> None:
        if not job.note:
            raise GiveUp("alert job without its alert")
        delivery = Delivery.model_validate_json(job.note)
        if await self._store.delivered(job.key):
            return
        via = self._via(delivery.via)
        if via is None:
            return
        await via.send_alert(delivery.to, delivery.alert, job.key)
        await self._store.mark_delivered(job.key)

    async def digest(self, job: Job) -> None:
        if not job.note:
            raise GiveUp("digest job without its period")
        period = DigestPeriod.model_validate_json(job.note)
        items = await self._store.digest_items(period.via, period.to, due_by=period.due)
        if await self._store.delivered(job.key):
            if items:  # filed while this digest went out: the next one takes them
                later = period.model_copy(update={"due": utcnow() + LATE_ITEMS_WAIT})
                await self._store.enqueue(digest_job(later), run_at=later.due)
            return
        via = self._via(period.via)
        if via is None or not items:
            return
        digest = Digest(period=period, alerts=tuple(item.alert for item in items))
        to = tuple(period.to.split(",")) if period.to else ()
        await via.send_digest(to, digest, job.key)
        await self._store.finish_digest(job.key, [item.id for item in items])
