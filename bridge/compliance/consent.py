"""Consent ledger entries for what subscribers (and carriers) tell us."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bridge.models import Channel, ConsentEvent, ConsentKind, ConsentSource


def _events(
    kinds: Iterable[ConsentKind],
    granted: bool,
    business_number: str,
    subscriber: str,
    *,
    channel: Channel,
    source: ConsentSource,
    at: datetime,
    evidence: str,
    ref: str | None,
) -> list[ConsentEvent]:
    return [
        ConsentEvent(
            channel=channel,
            business_number=business_number,
            subscriber=subscriber,
            kind=kind,
            granted=granted,
            source=source,
            at=at,
            evidence=evidence,
            ref=ref,
        )
        for kind in kinds
    ]


def revocation(
    business_number: str,
    subscriber: str,
    *,
    channel: Channel = Channel.SMS,
    source: ConsentSource,
    at: datetime,
    evidence: str,
    ref: str | None,
) -> list[ConsentEvent]:
    """An opt-out withdraws everything: conversational texts and marketing alike."""
    return _events(
        ConsentKind,
        False,
        business_number,
        subscriber,
        channel=channel,
        source=source,
        at=at,
        evidence=evidence,
        ref=ref,
    )


def opt_in(
    business_number: str,
    subscriber: str,
    *,
    channel: Channel = Channel.SMS,
    source: ConsentSource,
    at: datetime,
    evidence: str,
    ref: str | None,
) -> list[ConsentEvent]:
    """START restores conversational texts only: marketing needs its own written consent."""
    return _events(
        [ConsentKind.CONVERSATIONAL],
        True,
        business_number,
        subscriber,
        channel=channel,
        source=source,
        at=at,
        evidence=evidence,
        ref=ref,
    )
