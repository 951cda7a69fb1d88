"""A subscriber base for campaign tests: contacts with tags and consent in a store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from bridge.models import ConsentEvent, ConsentKind, ConsentSource, Contact
from bridge.store.base import Store

# 17:00 in New York (415 numbers are Californian: 14:00 there).
NOON = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)


def number(n: int, prefix: str = "+1415555") -> str:
    """+1415…: one zone (San Francisco), quiet hours are exact; +1800…: no zone of its
    own, the business's applies (see `daytime_zone`)."""
    return f"{prefix}{n:04d}"


def daytime_zone(now: datetime | None = None) -> str:
    """A fixed-offset zone where it is about noon now: marketing may go whenever a
    test runs against the real clock."""
    hour = (now or datetime.now(UTC)).hour
    offset = (12 - hour + 11) % 24 - 11  # hours east of UTC, -11..12
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


@dataclass
class Base:
    """50 regulars: 10 opted out, 5 without marketing consent (35 may get marketing)."""

    business: str
    size: int = 50
    opted_out: int = 10
    no_marketing: int = 5
    prefix: str = "+1415555"
    phones: list[str] = field(default_factory=list)

    async def store_in(self, store: Store, *, at: datetime = NOON) -> None:
        self.phones = [number(n, self.prefix) for n in range(1, self.size + 1)]
        events = []
        for n, phone in enumerate(self.phones):
            name = f"Pat{n} Doe"
            await store.put_contact(
                Contact(phone=phone, name=name, fields={"city": "Oakland"}, tags=("regulars",))
            )
            if n >= self.no_marketing:
                events.append(self.event(phone, ConsentKind.MARKETING, granted=True, at=at))
            if n >= self.size - self.opted_out:
                events.append(self.event(phone, ConsentKind.CONVERSATIONAL, granted=False, at=at))
        await store.record_consent(events)

    def event(
        self, phone: str, kind: ConsentKind, *, granted: bool, at: datetime, ref: str | None = None
    ) -> ConsentEvent:
        return ConsentEvent(
            business_number=self.business,
            subscriber=phone,
            kind=kind,
            granted=granted,
            source=ConsentSource.IMPORT if granted else ConsentSource.KEYWORD,
            at=at,
            evidence="test",
            ref=ref,
        )

    @property
    def may_get_marketing(self) -> list[str]:
        return self.phones[self.no_marketing : self.size - self.opted_out]
