"""Who a campaign goes to: the union of its tags, numbers and segment, in that order
(each subscriber once); then, per recipient, the rules: consent, and a text with a
value for every placeholder."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bridge.campaigns.errors import CampaignError
from bridge.campaigns.models import CampaignKind, CampaignSpec, Segment
from bridge.campaigns.segments import SubscriberFacts, matches, tags_of
from bridge.config import Business
from bridge.models import ConsentState, Contact
from bridge.store.base import CampaignStore, ConsentStore
from bridge.threading.canned import MissingField, personalise

# Why a recipient gets no text (progress and the plan count by these).
OPTED_OUT = "opted out"
NO_MARKETING_CONSENT = "no marketing consent"


class _Store(CampaignStore, ConsentStore, Protocol):
    """The store roles this module uses."""


@dataclass(frozen=True)
class Chosen:
    phone: str
    contact: Contact | None


async def choose(
    store: _Store, spec: CampaignSpec, segments: Mapping[str, Segment], *, now: datetime
) -> list[Chosen]:
    """The campaign's audience, before the rules; `CampaignError` for a segment that
    is not configured."""
    contacts = await store.campaign_contacts()
    by_phone = {contact.phone: contact for contact in contacts}
    chosen: dict[str, Contact | None] = {}
    wanted = {tag.lower() for tag in spec.to.tags}
    if wanted:
        for contact in contacts:
            if tags_of(contact) & wanted:
                chosen.setdefault(contact.phone, contact)
    for number in spec.to.numbers:
        chosen.setdefault(number, by_phone.get(number))
    if spec.to.segment is not None:
        segment = segments.get(spec.to.segment)
        if segment is None:
            raise CampaignError(
                f"to.segment: no segment {spec.to.segment!r} in campaigns.segments"
                f" (known: {', '.join(sorted(segments)) or 'none'})"
            )
        for contact in await _members(store, spec, segment, contacts, now=now):
            chosen.setdefault(contact.phone, contact)
    return [Chosen(phone, contact) for phone, contact in chosen.items()]


async def _members(
    store: _Store,
    spec: CampaignSpec,
    segment: Segment,
    contacts: list[Contact],
    *,
    now: datetime,
) -> list[Contact]:
    texts = await store.last_texts(segment.business_number or spec.from_number, spec.channel)
    members = []
    for contact in contacts:
        # Consent is read only for a segment that asks about it (a query per contact).
        consent = (
            await store.consent_state(spec.from_number, contact.phone, spec.channel)
            if segment.consent is not None
            else ConsentState()
        )
        facts = SubscriberFacts(
            consent=consent,
            has_conversation=contact.phone in texts,
            last_text=texts.get(contact.phone),
        )
        if matches(segment, contact, facts, now=now):
            members.append(contact)
    return members


def judge(
    spec: CampaignSpec, chosen: Chosen, consent: ConsentState, business: Business
) -> tuple[str | None, str | None]:
    """(the recipient's text, None) when they may get it, else (None, why not)."""
    if not consent.conversational:
        return None, OPTED_OUT
    if spec.kind is CampaignKind.MARKETING and not consent.marketing:
        return None, NO_MARKETING_CONSENT
    try:
        return personalise(spec.text, chosen.contact, business, chosen.phone), None
    except MissingField as exc:
        return None, f"no {exc.field} for this contact"
