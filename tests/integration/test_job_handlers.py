"""The app runs every kind of job there is: a kind without a handler would wait in
the store forever."""

from __future__ import annotations

import pytest

from bridge.app import JOB_KINDS
from bridge.config import BusinessConfig
from bridge.models import JobKind
from tests.support import BridgeUnderTest


@pytest.fixture
def business_config() -> BusinessConfig:
    # The appointment webhook's handler exists only when the business has one.
    appointments = {"webhook_url": "http://127.0.0.1:9/appointments"}
    return BusinessConfig.model_validate({"ai": {"tools": {"appointments": appointments}}})


async def test_every_job_kind_has_a_handler(bridge: BridgeUnderTest) -> None:
    assert bridge.app is not None
    assert bridge.app[JOB_KINDS] == frozenset(JobKind)
