"""Consent ledger entries for what subscribers (and carriers) tell us."""

from __future__ import annotations

from datetime import datetime

from bridge.models import ConsentEvent, ConsentKind, ConsentSource


def revocation(
    business_number: str,
    subscriber: str,
    *,
    source: ConsentSource,
    at: datetime,
    evidence: str,
    ref: str | None,
) -> list[ConsentEvent]:
    """An opt-out withdraws everything: conversational texts and marketing alike."""
    return [
        ConsentEvent(
            business_number=business_number,
            subscriber=subscriber,
            kind=kind,
            granted=False,
            source=source,
            at=at,
            evidence=evidence,
            ref=ref,
        )
        for kind in ConsentKind
    ]


def opt_in(
    business_number: str,
    subscriber: str,
    *,
    source: ConsentSource,
    at: datetime,
    evidence: str,
    ref: str | None,
) -> list[ConsentEvent]:
    """START restores conversational texts only: marketing needs its own written consent."""
    return [
        ConsentEvent(
            business_number=business_number,
            subscriber=subscriber,
            kind=ConsentKind.CONVERSATIONAL,
            granted=True,
            source=source,
            at=at,
            evidence=evidence,
            ref=ref,
        )
    ]
