"""The consent ledger as CSV, for an audit."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from bridge.models import ConsentEvent

COLUMNS = ("at", "business_number", "subscriber", "kind", "change", "source", "evidence", "ref")


def write_consent_csv(events: Iterable[ConsentEvent], out: TextIO) -> None:
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for event in events:
        writer.writerow(
            (
                event.at.isoformat(),
                event.business_number,
                event.subscriber,
                event.kind.value,
                "granted" if event.granted else "revoked",
                event.source.value,
                event.evidence,
                event.ref or "",
            )
        )
