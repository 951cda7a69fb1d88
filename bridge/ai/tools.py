"""Tools the business can enable for the assistant: its order-status endpoint, its
appointment-request webhook and the free times it offers (`availability`). All are the
business's own HTTP endpoints.

Each call is bounded (timeout, response size) and answers failure with `ToolFailed`,
whose message is safe to show a person: the drafter then hands the text off instead of
guessing. Only the subscriber's own phone number goes with a look-up, so the endpoint can
refuse an order that belongs to somebody else.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as clock_time
from typing import Protocol
from urllib.parse import quote

import aiohttp

from bridge.ai.knowledge import BusinessProfile

MAX_RESPONSE_BYTES = 16 * 1024
MAX_FIELD_CHARS = 200
_ORDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}")


class ToolFailed(Exception):
    """The tool could not answer (timeout, HTTP error, bad response)."""


@dataclass(frozen=True)
class OrderStatus:
    order: str
    found: bool
    status: str | None = None
    eta: str | None = None
    detail: str | None = None

    def summary(self) -> str:
        """One sentence for the customer (and for the model as the tool's result)."""
        if not self.found:
            return f"We could not find order #{self.order} under this phone number."
        text = f"Order #{self.order}: {self.status}."
        if self.eta:
            text += f" Expected {self.eta}."
        if self.detail:
            text += f" {self.detail}"
        return text


def _field(data: dict[str, object], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    return " ".join(str(value).split())[:MAX_FIELD_CHARS] or None


class OrderLookup:
    """GET the business's endpoint: `url` holds `{order}`, the subscriber goes as `phone`.

    The endpoint answers 200 with a JSON object (`status` required; `eta`, `detail`
    optional) or 404 when it knows no such order for that phone."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        *,
        timeout: float = 3.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._session = session
        self._url = url
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._headers = headers or {}

    async def lookup(self, order: str, *, phone: str) -> OrderStatus:
        if not _ORDER.fullmatch(order):  # it may come from a model: never a path
            raise ToolFailed(f"{order[:40]!r} is not an order number")
        url = self._url.replace("{order}", quote(order, safe=""))
        try:
            async with self._session.get(
                url, params={"phone": phone}, headers=self._headers, timeout=self._timeout
            ) as response:
                if response.status == 404:
                    return OrderStatus(order=order, found=False)
                if response.status != 200:
                    raise ToolFailed(f"order status endpoint answered HTTP {response.status}")
                raw = await response.content.read(MAX_RESPONSE_BYTES + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ToolFailed(f"order status endpoint unreachable: {type(exc).__name__}") from exc
        if len(raw) > MAX_RESPONSE_BYTES:
            raise ToolFailed("order status endpoint answered more than 16 KB")
        try:
            data = json.loads(raw)
        except ValueError:
            raise ToolFailed("order status endpoint did not answer JSON") from None
        status = _field(data, "status") if isinstance(data, dict) else None
        if status is None:
            raise ToolFailed("order status endpoint answered without a status")
        return OrderStatus(
            order=order,
            found=True,
            status=status,
            eta=_field(data, "eta"),
            detail=_field(data, "detail"),
        )


class SlotSource(Protocol):
    """Free times for appointments (`bridge.ai.availability`)."""

    max_slots: int

    async def free_on(
        self, day: date, profile: BusinessProfile | None, *, after: datetime
    ) -> list[clock_time]: ...


@dataclass(frozen=True)
class Tools:
    """The tools a business enabled: `orders` when it configured an order endpoint,
    `appointments` when the assistant may collect appointment wishes, `availability`
    when it offers free times for them."""

    orders: OrderLookup | None = None
    appointments: bool = False
    availability: SlotSource | None = None
