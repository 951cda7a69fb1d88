"""Segments: saved filters over contacts (`campaigns.segments`). Every condition a
segment sets must hold; tags and field values compare case-insensitively."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bridge.campaigns.models import Segment
from bridge.models import ConsentKind, ConsentState, Contact


@dataclass(frozen=True)
class SubscriberFacts:
    """What a segment may ask of one subscriber, for one business number."""

    consent: ConsentState
    has_conversation: bool  # with the business number
    last_text: datetime | None  # when they last texted it


def tags_of(contact: Contact) -> set[str]:
    return {tag.lower() for tag in contact.tags}


def matches(segment: Segment, contact: Contact, facts: SubscriberFacts, *, now: datetime) -> bool:
    if segment.tags and not tags_of(contact) & {tag.lower() for tag in segment.tags}:
        return False
    fields = {key.lower(): value.strip().lower() for key, value in contact.fields.items()}
    for key, value in segment.fields.items():
        if fields.get(key.lower()) != value.strip().lower():
            return False
    if segment.consent is ConsentKind.MARKETING and not facts.consent.marketing:
        return False
    if segment.consent is ConsentKind.CONVERSATIONAL and not facts.consent.conversational:
        return False
    if segment.business_number is not None and not facts.has_conversation:
        return False
    if segment.active_within_days is not None and (
        facts.last_text is None
        or facts.last_text < now - timedelta(days=segment.active_within_days)
    ):
        return False
    return segment.inactive_for_days is None or (
        facts.last_text is None
        or facts.last_text <= now - timedelta(days=segment.inactive_for_days)
    )
