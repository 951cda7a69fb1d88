"""An opt-in request's answer: its keyword (YES) within the window is written marketing
consent, recorded in the ledger with the request as its source, and confirmed if the
request says how. Without a request, YES is an ordinary text (the keyword step does
not know it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bridge.campaigns.models import Campaign
from bridge.campaigns.replies import CampaignReply, Keep
from bridge.campaigns.reply_texts import personal_text
from bridge.compliance.keywords import normalise
from bridge.config import Business
from bridge.models import ConsentEvent, ConsentKind, ConsentSource, MessagePurpose
from bridge.store.base import ConsentStore, ContactStore, ReplyStore

YES = "yes"  # the choice an opt-in's answer records


class _Store(ReplyStore, ConsentStore, ContactStore, Protocol):
    """The store roles this module uses."""


class OptInFlow:
    def __init__(
        self, store: _Store, business: Business, *, on_enqueued: Callable[[], None]
    ) -> None:
        self._store = store
        self._business = business
        self._on_enqueued = on_enqueued

    def read(self, campaign: Campaign, text: str) -> str | None:
        request = campaign.spec.opt_in
        if request is None or "?" in text:  # "Yes?" asks; it does not consent
            return None
        return YES if normalise(text) == normalise(request.keyword) else None

    def keep(self, campaign: Campaign) -> Keep:
        return "first"  # consent is given once; a second YES adds nothing

    async def counted(self, reply: CampaignReply) -> bool:
        sms, campaign = reply.sms, reply.campaign
        # Keyed by the MessageSid (ref): a provider's retry records nothing twice.
        event = ConsentEvent(
            channel=sms.channel,
            business_number=sms.business_number,
            subscriber=sms.subscriber,
            kind=ConsentKind.MARKETING,
            granted=True,
            source=ConsentSource.OPT_IN_REQUEST,
            at=sms.received_at,
            evidence=f"{sms.body} (campaign {campaign.id}: {campaign.spec.text})",
            ref=sms.sid,
        )
        await self._store.record_consent([event])
        request = campaign.spec.opt_in
        if request is None or not request.confirm:
            return False
        body = await personal_text(
            self._store, campaign, request.confirm, sms.subscriber, self._business
        )
        if body is not None and await self._store.record_system_text(
            reply.text.conversation_id,
            body,
            MessagePurpose.OPT_IN_CONFIRMATION,
            key=f"opt-in-confirm:{sms.sid}",
        ):
            self._on_enqueued()
        return False
