"""The connection to MongoDB: the client and its collections, opening (indexes and
backfills), and whether the server takes writes."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pymongo
from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import (
    BulkWriteError,
    ConnectionFailure,
    DuplicateKeyError,
    NotPrimaryError,
    OperationFailure,
    PyMongoError,
    WriteConcernError,
)

from bridge.events import Publishing
from bridge.models import JobState, Message, NewJob, utcnow
from bridge.store.base import StoreUnavailable
from bridge.store.health import WriteHealth
from bridge.store.mongo import documents
from bridge.store.mongo.documents import Doc
from bridge.store.mongo.indexes import create_indexes

DEFAULT_DATABASE = "sms_bridge"

# How long opening waits for a server to answer: a wrong host or a stopped server is
# reported at start in seconds, not after the driver's 30 s server selection.
OPEN_SECONDS = 10

DUPLICATE_KEY = 11000
_OUT_OF_DISK_SPACE = 14031


def _refusal_of(error: Exception) -> tuple[str, str] | None:
    """What is wrong and where to look, if `error` means the server takes no writes now."""
    if isinstance(error, NotPrimaryError):  # before ConnectionFailure: it is one
        return "not primary", "the replica set has no primary (an election, or members down)"
    if isinstance(error, ConnectionFailure):
        return "unreachable", "check that the server runs and that this host reaches it"
    if isinstance(error, WriteConcernError):
        return "writes not acknowledged", "too few replica set members acknowledge writes"
    if isinstance(error, OperationFailure) and error.code == _OUT_OF_DISK_SPACE:
        return "disk full", "free space on the server's volume"
    return None


class MongoConnection:
    """The client, the collections and the store's health; the numbering and the
    repairs of a message a crash left only in its job, which several roles share."""

    def __init__(
        self,
        client: AsyncMongoClient[Any],
        database: str = DEFAULT_DATABASE,
        *,
        probe_seconds: float = 2.0,
    ) -> None:
        self._client = client
        self._db = client[database]
        self._name = database
        self.publishing = Publishing()  # until the notifiers are known (see base.py)
        self.first_response_minutes: int | None = None  # no SLA timer until set at start
        self._health = WriteHealth(self._refusal, self._probe, interval=probe_seconds)

    def _coll(self, name: str) -> AsyncCollection[Any]:
        return self._db[name]

    @property
    def _counters(self) -> AsyncCollection[Any]:
        return self._coll("counters")

    @property
    def _conversations(self) -> AsyncCollection[Any]:
        return self._coll("conversations")

    @property
    def _messages(self) -> AsyncCollection[Any]:
        return self._coll("messages")

    @property
    def _contacts(self) -> AsyncCollection[Any]:
        return self._coll("contacts")

    @property
    def _jobs(self) -> AsyncCollection[Any]:
        return self._coll("jobs")

    @property
    def _lanes(self) -> AsyncCollection[Any]:
        return self._coll("lanes")

    @property
    def _posts(self) -> AsyncCollection[Any]:
        return self._coll("slack_posts")

    @property
    def _consent_events(self) -> AsyncCollection[Any]:
        return self._coll("consent_events")

    @property
    def _canned(self) -> AsyncCollection[Any]:
        return self._coll("canned")

    @property
    def _home_viewers(self) -> AsyncCollection[Any]:
        return self._coll("home_viewers")

    @property
    def _away(self) -> AsyncCollection[Any]:
        return self._coll("away")

    @property
    def _sent(self) -> AsyncCollection[Any]:
        return self._coll("notifications_sent")

    @property
    def _digest_items(self) -> AsyncCollection[Any]:
        return self._coll("digest_items")

    @property
    def _preferences(self) -> AsyncCollection[Any]:
        return self._coll("notify_preferences")

    @property
    def _push_subscriptions(self) -> AsyncCollection[Any]:
        return self._coll("push_subscriptions")

    async def open(self) -> None:
        try:
            with pymongo.timeout(OPEN_SECONDS):
                await self._db.command("ping")
            # Not bounded: building an index on a large collection takes its time.
            await create_indexes(self._db)
        except PyMongoError as exc:
            if isinstance(exc, ConnectionFailure) or exc.timeout:
                reason = f"no MongoDB server answered within {OPEN_SECONDS} s"
            else:
                reason = f"cannot open database {self._name!r}"
            raise StoreUnavailable(f"MONGODB_URI: {reason} ({_brief(exc)})") from None

    async def close(self) -> None:
        await self._health.close()
        await self._client.close()

    async def ping(self) -> bool:
        if self.refusing is not None:
            return False
        try:
            await self._db.command("ping")
        except Exception:
            return False
        return True

    @property
    def refusing(self) -> StoreUnavailable | None:
        return self._health.refusing

    def _refusal(self, error: Exception) -> StoreUnavailable | None:
        found = _refusal_of(error)
        if found is None:
            return None
        reason, hint = found
        detail = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
        return StoreUnavailable(
            f"MONGODB_URI: database {self._name!r} refuses writes: {reason} ({detail}); {hint}",
            reason=reason,
        )

    async def _probe(self) -> None:
        await self._coll("write_probes").update_one(
            {"_id": "probe"}, {"$set": {"at": documents.ms(utcnow())}}, upsert=True
        )

    async def _next(self, counter: str, count: int = 1) -> int:
        """The next number of `counter`; with `count`, the last of that many (the
        others are the `count - 1` before it)."""
        doc: Doc | None = await self._counters.find_one_and_update(
            {"_id": counter},
            {"$inc": {"n": count}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None  # upsert with AFTER always returns the document
        return int(doc["n"])

    async def _carrying(self, jobs: Sequence[NewJob], message: Message, *, run_at: datetime) -> Doc:
        """The durable write of an effect, to insert: its first job with the message
        inside it, and the jobs that follow it, stored once the message is (`_follow`)."""
        first, *rest = await self._job_docs(jobs, run_at=run_at)
        first["message"] = documents.message_doc(message)
        if rest:
            first["follow"] = rest
        return first

    async def _follow(self, durable: Doc) -> None:
        """Store the jobs that follow a durable write, once its message is stored; again
        after a crash (`claim_jobs` repairs it), each once by its key."""
        if not durable.get("follow"):
            return
        await self._insert_jobs(durable["follow"])
        await self._jobs.update_one({"_id": durable["_id"]}, {"$unset": {"follow": ""}})

    async def _enqueue(self, job: NewJob, *, run_at: datetime) -> None:
        """`JobStore.enqueue`, for every role's writes."""
        # A running key: left to its worker, marked to run once more.
        marked = await self._jobs.update_one(
            {"_id": job.key, "state": JobState.RUNNING.value}, {"$set": {"rerun": True}}
        )
        if marked.matched_count == 1:
            return
        at = documents.ms(run_at)
        seq = await self._next("jobs")  # wasted when the key is pending: gaps are fine
        new = documents.new_job_doc(job, seq=seq, run_at=at)
        again = documents.pending(job, seq=seq, run_at=at)
        # One write: a dead key is pending again at the lane's tail; a missing key is
        # inserted; a pending key fails the filter, and the upsert's insert then fails
        # on _id: that is the coalescing. So does a key claimed since the first write:
        # it was pending during this call, and its run starts after it.
        with contextlib.suppress(DuplicateKeyError):
            await self._jobs.update_one(
                {"_id": job.key, "state": JobState.DEAD.value},
                {
                    "$set": again,
                    "$setOnInsert": {k: v for k, v in new.items() if k != "_id" and k not in again},
                },
                upsert=True,
            )

    async def _job_docs(self, jobs: Sequence[NewJob], *, run_at: datetime) -> list[Doc]:
        """New jobs' documents, numbered in order."""
        last = await self._next("jobs", len(jobs))
        return [
            documents.new_job_doc(job, seq=seq, run_at=run_at)
            for seq, job in enumerate(jobs, start=last - len(jobs) + 1)
        ]

    async def _insert_jobs(self, docs: Sequence[Doc]) -> None:
        """Insert new jobs; one stored already (before a crash) stays as it is."""
        try:
            await self._jobs.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                raise

    async def _find_message(self, fields: Doc) -> Doc | None:
        """The message document with these (uniquely indexed) fields. If a crash left
        the message only in the job that carries it, it is stored here first."""
        doc: Doc | None = await self._messages.find_one(fields)
        if doc is not None:
            return doc
        job: Doc | None = await self._jobs.find_one(
            {f"message.{name}": value for name, value in fields.items()}
        )
        if job is None:
            return None
        # Read back: if it was stored meanwhile, it may have changed since. If not
        # stored, it is a late duplicate: another message holds these fields.
        stored = await self._ensure_message(job["message"])
        found: Doc | None = await self._messages.find_one(
            {"_id": job["message"]["_id"]} if stored else fields
        )
        if found is None:
            raise RuntimeError(f"{fields} is taken but has no message")
        return found

    async def _ensure_message(self, doc: Doc) -> bool:
        """Insert a message document unless it exists: the idempotent repair of (d).
        False if another message holds its sid or its Slack ts: this one is a late
        duplicate."""
        fields = {name: value for name, value in doc.items() if name != "_id"}
        try:
            await self._messages.update_one(
                {"_id": doc["_id"]}, {"$setOnInsert": fields}, upsert=True
            )
        except DuplicateKeyError:
            # On _id: a concurrent upsert of the same message won, which is all this
            # wanted. On sid or Slack ts: another message has it.
            found = await self._messages.find_one({"_id": doc["_id"]}, projection={"_id": True})
            return found is not None
        return True


def _brief(exc: PyMongoError) -> str:
    """The driver's reason without its topology dump or full server reply."""
    text = str(exc) or type(exc).__name__
    for tail in (" (configured timeouts", ", Timeout:", ", full error:"):
        text = text.split(tail, 1)[0]
    return text[:200]
