"""The outbox: jobs in lanes, each lane's mutex a document of its own."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from bridge.models import (
    Job,
    JobKind,
    JobState,
    NewJob,
)
from bridge.store.mongo import documents
from bridge.store.mongo.connection import MongoConnection
from bridge.store.mongo.documents import Doc


def _due(now: datetime) -> Doc:
    """Pending and due, or running under a lease that ran out (its worker died)."""
    return {
        "$or": [
            {"state": JobState.PENDING.value, "run_at": {"$lte": now}},
            {"state": JobState.RUNNING.value, "lease_until": {"$lte": now}},
        ]
    }


def _is_due(doc: Doc, now: datetime) -> bool:
    if doc["state"] == JobState.PENDING.value:
        return bool(documents.aware(doc["run_at"]) <= now)
    lease_until = doc.get("lease_until")
    return (
        doc["state"] == JobState.RUNNING.value
        and lease_until is not None
        and documents.aware(lease_until) <= now
    )


# The most marked jobs one claim reads: the jobs of a burst are marked when stored and
# unmarked by the claims that read them, this many at a time.
HEADS_PER_CLAIM = 500


class JobDocuments(MongoConnection):
    """JobStore on MongoDB."""

    _heads_checked_at: datetime | None = None  # the last `_mark_heads`, by claims' clock

    # Lanes: jobs carry a `seq` from one global counter, and a lane runs its unfinished
    # job with the lowest seq. Allocating a seq and inserting the job are two writes,
    # so a claimer can see seq 6 before seq 5 exists; ordering by seq alone could then
    # run 5 and 6 at once. The `lanes` document is the lane's mutex: a claim takes it
    # (compare-and-set, leased like the job) before taking the job; extend_lease
    # renews both, and the lease holder gives the lane back when it completes, retries
    # or kills the job. A holder that dies gives it back by its lease running out, at
    # the same moment as the job's.
    #
    # Enqueueing a key that is running only sets the job's `rerun` mark; the run keeps
    # its lease and its lane. When that run completes, the job is pending again at the
    # lane's tail (and only then is the lane given back); a retry or a kill clears the
    # mark, as the job runs again anyway or gives up.

    async def enqueue(self, job: NewJob, *, run_at: datetime) -> None:
        await self._enqueue(job, run_at=run_at)

    # Heads: a job is marked `head` when it may be its lane's oldest unfinished one. New
    # and re-queued jobs are marked at once (no extra write, nothing to lose in a
    # crash); a claim unmarks those it finds are not, and a job leaving its lane marks
    # the next. So a claim reads the due marked jobs only, not every job queued behind
    # lane heads that wait (Slack's pace): one query, whatever the backlog. A mark
    # lost in a crash between two writes is restored by `_mark_heads`, run by the
    # first claim and then once a lease period: the lane waits no longer than a lease.

    async def claim_jobs(
        self, owner: str, *, now: datetime, limit: int, lease_seconds: float
    ) -> list[Job]:
        lease = timedelta(seconds=lease_seconds)
        if self._heads_checked_at is None or now >= self._heads_checked_at + lease:
            self._heads_checked_at = now
            await self._mark_heads()
        now = documents.ms(now)
        claimed: list[Job] = []
        heads: dict[str, Doc | None] = {}  # each lane's oldest unfinished job, as read
        # Again while it claims: a claimed text may store the jobs that follow it.
        while len(claimed) < limit:
            found = await self._claim_marked(owner, now, now + lease, limit - len(claimed), heads)
            if not found:
                break
            claimed += found
        return claimed

    async def _claim_marked(
        self,
        owner: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        heads: dict[str, Doc | None],
    ) -> list[Job]:
        """One pass over the due marked jobs, oldest first; unmarks those that are not
        their lane's head (`heads`: the lanes read so far)."""
        claimed: list[Job] = []
        not_heads: list[Doc] = []
        marked = self._jobs.find(
            {"head": True, **_due(now)}, sort=[("seq", ASCENDING)], limit=HEADS_PER_CLAIM
        )
        async for candidate in marked:
            lane: str = candidate["lane"]
            known = lane in heads
            head = heads[lane] if known else await self._lane_head(lane)
            heads[lane] = head
            if head is None or head["_id"] != candidate["_id"]:
                not_heads.append(candidate)
            if known or head is None or not _is_due(head, now):
                continue  # the lane waits for its oldest job (or was seen already)
            job = await self._claim(head, owner=owner, now=now, lease_until=lease_until)
            if job is not None:
                claimed.append(job)
                if len(claimed) == limit:
                    break
        if not_heads:
            await self._jobs.update_many(
                {"$or": [{"_id": d["_id"], "seq": d["seq"]} for d in not_heads]},
                {"$set": {"head": False}},
            )
            # A head that left its lane meanwhile may have marked one of them: mark again.
            for lane in {d["lane"] for d in not_heads}:
                await self._mark_head(lane)
        return claimed

    async def _lane_head(self, lane: str) -> Doc | None:
        found: Doc | None = await self._jobs.find_one(
            {"lane": lane, "state": {"$in": documents.UNFINISHED}}, sort=[("seq", ASCENDING)]
        )
        return found

    async def _mark_head(self, lane: str) -> None:
        """Mark the lane's oldest unfinished job, after a job left the lane."""
        head = await self._lane_head(lane)
        if head is not None and not head.get("head"):
            await self._jobs.update_one(
                {"_id": head["_id"], "seq": head["seq"]}, {"$set": {"head": True}}
            )

    async def _mark_heads(self) -> None:
        """Mark every lane's oldest unfinished job (jobs stored before heads were
        marked, or a mark lost in a crash)."""
        cursor = await self._jobs.aggregate(
            [
                {"$match": {"state": {"$in": documents.UNFINISHED}}},
                {"$sort": {"lane": ASCENDING, "seq": ASCENDING}},
                {
                    "$group": {
                        "_id": "$lane",
                        "job": {"$first": "$_id"},
                        "head": {"$first": "$head"},
                    }
                },
                {"$match": {"head": {"$ne": True}}},
            ]
        )
        unmarked = [doc["job"] async for doc in cursor]
        if unmarked:
            await self._jobs.update_many({"_id": {"$in": unmarked}}, {"$set": {"head": True}})

    async def _claim(
        self, head: Doc, *, owner: str, now: datetime, lease_until: datetime
    ) -> Job | None:
        token = f"{owner}:{uuid.uuid4().hex}"
        lane = head["lane"]
        if not await self._take_lane(lane, head["_id"], token, now, lease_until):
            return None
        # seq in the filter: a job re-enqueued since we read it is no longer the head.
        doc: Doc | None = await self._jobs.find_one_and_update(
            {"_id": head["_id"], "seq": head["seq"], **_due(now)},
            {
                "$set": {
                    "state": JobState.RUNNING.value,
                    "lease_token": token,
                    "lease_until": lease_until,
                    "head": True,
                },
                "$inc": {"attempts": 1},
            },
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:  # another claimer, or a complete, got there first
            await self._give_lane(lane, token)
            return None
        # record_inbound writes the job (with its message) before the message's own
        # document; if it crashed between the two, this is where the message comes
        # back (and the jobs that follow it), before any handler asks the store for it.
        if "message" in doc and not await self._ensure_message(doc["message"]):
            # A late duplicate of a text stored already (see record_inbound): drop it.
            await self._jobs.delete_one({"_id": doc["_id"], "lease_token": token})
            await self._give_lane(lane, token)
            return None
        await self._follow(doc)
        return documents.job(doc)

    async def _take_lane(
        self, lane: str, key: str, token: str, now: datetime, lease_until: datetime
    ) -> bool:
        try:
            # Free (never held, given back, or its lease ran out): take it. Held: the
            # filter fails and the upsert's insert fails on _id.
            await self._lanes.update_one(
                {"_id": lane, "$or": [{"lease_token": None}, {"lease_until": {"$lte": now}}]},
                {"$set": {"lease_token": token, "job_key": key, "lease_until": lease_until}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    async def _give_lane(self, lane: str, token: str) -> None:
        await self._lanes.update_one(
            {"_id": lane, "lease_token": token},
            {"$set": {"lease_token": None, "job_key": None, "lease_until": None}},
        )

    async def extend_lease(self, job: Job, *, until: datetime) -> bool:
        at = documents.ms(until)
        result = await self._jobs.update_one(
            {"_id": job.key, "lease_token": job.lease_token}, {"$set": {"lease_until": at}}
        )
        # The lane too: it stays this run's until the run ends (complete, retry, kill).
        await self._lanes.update_one(
            {"_id": job.lane, "lease_token": job.lease_token}, {"$set": {"lease_until": at}}
        )
        return result.matched_count == 1

    async def complete_job(self, job: Job) -> bool:
        owned = {"_id": job.key, "lease_token": job.lease_token}
        result = await self._jobs.delete_one({**owned, "rerun": {"$ne": True}})
        if result.deleted_count == 0:
            # Enqueued again while it ran (else its lease was lost, and this changes
            # nothing): pending again at the tail of its lane, attempts reset. Its
            # run_at stays: it was due when claimed, so it is due at once.
            seq = await self._next("jobs")
            await self._jobs.update_one(
                {**owned, "rerun": True},
                {
                    "$set": {
                        "seq": seq,
                        "state": JobState.PENDING.value,
                        "attempts": 0,
                        "rerun": False,
                        "lease_token": None,
                        "lease_until": None,
                    }
                },
            )
        await self._mark_head(job.lane)
        # After the job's write: this run is over.
        await self._give_lane(job.lane, job.lease_token)
        return result.deleted_count == 1

    async def retry_job(
        self, job: Job, *, run_at: datetime, error: str, counted: bool = True
    ) -> bool:
        # The job keeps its seq: it stays the head and holds its lane until run_at.
        update: Doc = {
            "$set": {
                "state": JobState.PENDING.value,
                "run_at": documents.ms(run_at),
                "last_error": error,
                "lease_token": None,
                "lease_until": None,
                "rerun": False,  # it runs again anyway
            }
        }
        if not counted:
            update["$inc"] = {"attempts": -1}  # the claim counted it; take it back
        result = await self._jobs.update_one(
            {"_id": job.key, "lease_token": job.lease_token}, update
        )
        await self._give_lane(job.lane, job.lease_token)
        return result.matched_count == 1

    async def kill_job(self, job: Job, *, error: str) -> bool:
        result = await self._jobs.update_one(
            {"_id": job.key, "lease_token": job.lease_token},
            {
                "$set": {
                    "state": JobState.DEAD.value,
                    "last_error": error,
                    "lease_token": None,
                    "lease_until": None,
                    "rerun": False,
                    "head": False,
                }
            },
        )
        await self._mark_head(job.lane)
        await self._give_lane(job.lane, job.lease_token)
        return result.matched_count == 1

    async def queue_depth(self) -> dict[str, int]:
        # count_documents per kind rather than an aggregate $group: kinds are few.
        depth: dict[str, int] = {}
        for kind in JobKind:
            count = await self._jobs.count_documents(
                {"kind": kind.value, "state": {"$ne": JobState.DEAD.value}}
            )
            if count:
                depth[kind.value] = count
        dead = await self._jobs.count_documents({"state": JobState.DEAD.value})
        if dead:
            depth["dead"] = dead
        return depth
