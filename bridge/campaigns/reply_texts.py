"""The texts a campaign sends back to an answer (a confirmation, a review request, a
follow-up question), personalised as the campaign's own text is."""

from __future__ import annotations

from collections.abc import Mapping

import structlog

from bridge.campaigns.models import Campaign
from bridge.config import Business
from bridge.store.base import ContactStore
from bridge.templates import TemplateError
from bridge.threading.canned import MissingField, personalise

log = structlog.get_logger(__name__)


async def personal_text(
    store: ContactStore,
    campaign: Campaign,
    template: str,
    subscriber: str,
    business: Business,
    extra: Mapping[str, str] | None = None,
) -> str | None:
    """The text for `subscriber`; None (logged) when a field it names is not filled in
    for them: the answer is counted all the same, only its reply is not sent."""
    contact = await store.get_contact(subscriber)
    try:
        return personalise(template, contact, business, subscriber, extra)
    except (MissingField, TemplateError) as exc:
        log.warning("campaign.reply_text_unusable", campaign=campaign.id, problem=str(exc))
        return None
