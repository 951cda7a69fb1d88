"""One contract suite, every engine: each test runs against SQLite, MongoDB through
mongomock-motor, and a real MongoDB server when MONGODB_URI is set.

mongomock-motor imitates Motor, not PyMongo's async API: `close()` is synchronous,
`aggregate()` is not awaited, there are no sessions. The adapter below bridges that
here, in the tests, so the product codes against PyMongo alone. It also yields to the
event loop before every database call: mongomock answers synchronously, so without
that, tasks run by asyncio.gather would never interleave and concurrency tests would
test nothing.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from mongomock_motor import AsyncMongoMockClient
from pymongo import AsyncMongoClient
from pymongo.errors import NotPrimaryError

from bridge.models import Channel, InboundSms
from bridge.store.base import Store
from bridge.store.mongo import MongoStore
from bridge.store.sqlite import SQLiteStore
from tests.support import bounded

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # whole milliseconds: exact on every engine
BUSINESS = "+15005550006"
SUBSCRIBER = "+15551230001"

StoreFactory = Callable[[], Awaitable[Store]]


def sms(
    sid: str,
    *,
    at: datetime = T0,
    subscriber: str = SUBSCRIBER,
    business: str = BUSINESS,
    body: str = "hello",
    channel: Channel = Channel.SMS,
) -> InboundSms:
    return InboundSms(
        sid=sid,
        channel=channel,
        business_number=business,
        subscriber=subscriber,
        body=body,
        received_at=at,
    )


_SCHEDULE = random.Random(1)


async def _yield() -> None:
    # Other tasks run between database calls, a varying number of steps each time,
    # as a server's replies would interleave them.
    for _ in range(_SCHEDULE.randint(1, 6)):
        await asyncio.sleep(0)


async def _yield_then(result: Awaitable[Any]) -> Any:
    await _yield()
    return await result


# What a refusing server refuses (see `MockClient.refusal`).
_WRITES = frozenset(
    {
        "insert_one",
        "insert_many",
        "update_one",
        "update_many",
        "replace_one",
        "delete_one",
        "delete_many",
        "find_one_and_update",
        "find_one_and_replace",
        "find_one_and_delete",
        "bulk_write",
    }
)


def _server_now(value: Any, now: datetime) -> Any:
    """mongomock does not know the `$$NOW` variable: the time of the call, as a value."""
    if value == "$$NOW":
        return now
    if isinstance(value, dict):
        return {key: _server_now(item, now) for key, item in value.items()}
    if isinstance(value, list):
        return [_server_now(item, now) for item in value]
    return value


class _MockCollection:
    def __init__(self, inner: Any, client: MockClient) -> None:
        self._inner = inner
        self._client = client

    def aggregate(self, pipeline: Any, *args: Any, **kwargs: Any) -> Awaitable[Any]:
        async def run() -> Any:
            await _yield()
            now = datetime.now(UTC)
            # Motor: a cursor, not awaited
            return self._inner.aggregate(_server_now(pipeline, now), *args, **kwargs)

        return run()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr
        refusal = self._client.refusal

        def call(*args: Any, **kwargs: Any) -> Any:
            if refusal is not None and name in _WRITES:
                return _raise(refusal)
            result = attr(*_server_now(list(args), datetime.now(UTC)), **kwargs)
            return _yield_then(result) if inspect.isawaitable(result) else result

        return call


async def _raise(error: Exception) -> Any:
    await _yield()
    raise error


class _MockDatabase:
    def __init__(self, inner: Any, client: MockClient) -> None:
        self._inner = inner
        self._client = client

    def __getitem__(self, name: str) -> _MockCollection:
        return _MockCollection(self._inner[name], self._client)

    async def command(self, *args: Any, **kwargs: Any) -> Any:
        await _yield()
        return await self._inner.command(*args, **kwargs)


class MockClient:
    """mongomock-motor's client shaped like PyMongo's AsyncMongoClient, as far as
    MongoStore uses it."""

    def __init__(self) -> None:
        self._inner: Any = AsyncMongoMockClient()
        # Set: every write fails with it, as on a server that cannot take writes.
        self.refusal: Exception | None = None

    def __getitem__(self, name: str) -> _MockDatabase:
        return _MockDatabase(self._inner[name], self)

    async def close(self) -> None:
        self._inner.close()  # synchronous in Motor (and mongomock)


MONGO_ENGINES = [
    "mongo",
    pytest.param("mongo-server", marks=pytest.mark.mongo_server),
]
ENGINES = ["sqlite", *MONGO_ENGINES]

# For tests of what only the MongoDB engine has: they run on its engines alone.
mongo_engines = pytest.mark.parametrize("engine", MONGO_ENGINES, indirect=True)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return cast(str, request.param)


# Stores that refused a write probe often: a test sees them take writes again soon.
PROBE_SECONDS = 0.05


@pytest.fixture
def mock_client() -> MockClient:
    return MockClient()


@pytest.fixture
async def new_store(
    engine: str, tmp_path: Path, mock_client: MockClient
) -> AsyncIterator[StoreFactory]:
    """Opens stores on one shared backing; each store stands for one process."""
    opened: list[Store] = []
    cleanup: list[Callable[[], Awaitable[None]]] = []

    if engine == "sqlite":
        path = tmp_path / "bridge.db"

        def build() -> Store:
            return SQLiteStore(path, probe_seconds=PROBE_SECONDS)

    elif engine == "mongo":

        def build() -> Store:
            client = cast("AsyncMongoClient[Any]", mock_client)
            return MongoStore(client, probe_seconds=PROBE_SECONDS)

    else:
        uri = os.environ.get("MONGODB_URI")
        if not uri:
            pytest.skip("MONGODB_URI is not set: no MongoDB server to test against")
        database = f"contract_{uuid.uuid4().hex[:12]}"
        admin: AsyncMongoClient[Any] = AsyncMongoClient(uri, serverSelectionTimeoutMS=5000)

        async def drop() -> None:
            await admin.drop_database(database)
            await admin.close()

        cleanup.append(drop)

        def build() -> Store:
            client: AsyncMongoClient[Any] = AsyncMongoClient(uri, serverSelectionTimeoutMS=5000)
            return MongoStore(client, database, probe_seconds=PROBE_SECONDS)

    async def factory() -> Store:
        store = build()
        await store.open()
        opened.append(store)
        return store

    yield factory
    for store in opened:
        await bounded(store.close())
    for step in cleanup:
        await bounded(step())


@pytest.fixture
async def store(new_store: StoreFactory) -> Store:
    return await new_store()


RefuseWrites = Callable[[Store, bool], Awaitable[None]]


@pytest.fixture
def refuse_writes(engine: str, mock_client: MockClient) -> RefuseWrites:
    """Make a store's writes fail (True) as on a read-only volume or a replica set
    without a primary, or work again (False)."""

    async def switch(store: Store, refuse: bool) -> None:
        if isinstance(store, SQLiteStore):
            await store.db.execute(f"PRAGMA query_only = {int(refuse)}")
        elif engine == "mongo":
            mock_client.refusal = NotPrimaryError("not primary") if refuse else None
        else:
            pytest.skip("a real MongoDB server cannot be made to refuse writes here")

    return switch
