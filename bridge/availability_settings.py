"""`ai.tools.availability:` in the business configuration: where the assistant reads
the free times it offers a customer who wants to book or move an appointment.

Either `url`, an endpoint of free slots (GET `url?date=YYYY-MM-DD` answers JSON
`{"slots": ["09:00", "10:30"]}`: start times that day, in the business's time zone), or
`ics_url`, an iCalendar feed of busy times (a calendar's "secret address"): the free
slots are then the day's opening hours (`business.hours`) in steps of `slot_minutes`
that no busy event overlaps."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import AfterValidator, AnyHttpUrl, Field, SecretStr, ValidationError, model_validator

from bridge.section import Section


def _url(value: str) -> str:
    try:
        AnyHttpUrl(value)
    except ValidationError:
        raise ValueError("must be a URL like https://example.com/slots") from None
    return value


class AvailabilityTool(Section):
    url: Annotated[str, AfterValidator(_url)] | None = None  # free slots, JSON
    ics_url: Annotated[str, AfterValidator(_url)] | None = None  # busy times, iCalendar
    slot_minutes: int = Field(default=30, ge=5, le=480)  # with ics_url: an appointment's length
    max_slots: int = Field(default=6, ge=1, le=20)  # offered in one text
    timeout_seconds: float = Field(default=3, gt=0, le=10)
    cache_seconds: float = Field(default=60, ge=0, le=3600)  # how long an answer is reused
    headers: dict[str, SecretStr] = Field(default_factory=dict)  # e.g. Authorization

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.url is None) == (self.ics_url is None):
            raise ValueError("set url (free slots, JSON) or ics_url (busy times), one of them")
        return self
