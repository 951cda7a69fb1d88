"""Contacts from a CSV file (`sms-bridge contacts import`): a `phone` column, an
optional `name`, optional `tags` (space- or semicolon-separated, for routing rules),
an optional `marketing_consent` (yes/no, into the consent ledger), and any other
column as a contact field for canned responses."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from bridge.models import ConsentEvent, ConsentKind, ConsentSource, Contact, utcnow
from bridge.phones import InvalidPhone, to_e164
from bridge.store.base import ConsentStore, ContactStore


class _Store(ContactStore, ConsentStore, Protocol):
    """The store roles this module uses."""


_YES = {"yes", "y", "true", "1", "opted in", "granted"}
_NO = {"no", "n", "false", "0", "opted out", "revoked"}


@dataclass(frozen=True)
class ContactRow:
    line: int
    contact: Contact
    marketing: bool | None  # None: the file says nothing about marketing consent


def read_tags(text: str) -> tuple[str, ...]:
    """ "VIP; regulars wholesale" → ("vip", "regulars", "wholesale"): lower case, once each."""
    return tuple(dict.fromkeys(tag.lower() for tag in re.split(r"[\s;]+", text) if tag))


def read_contacts(lines: Iterable[str]) -> tuple[list[ContactRow], list[str]]:
    """The rows, and a problem per line that could not be read (skipped)."""
    reader = csv.DictReader(lines)
    headers = [h.strip().lower() for h in reader.fieldnames or []]
    if "phone" not in headers:
        return [], ["the file needs a `phone` column"]
    rows: list[ContactRow] = []
    problems: list[str] = []
    for line, raw in enumerate(reader, start=2):
        record = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        try:
            phone = to_e164(record.pop("phone", ""))
        except InvalidPhone as exc:
            problems.append(f"line {line}: {exc}")
            continue
        consent = record.pop("marketing_consent", "").lower()
        if consent and consent not in _YES | _NO:
            problems.append(f"line {line}: marketing_consent {consent!r} is not yes or no")
            continue
        name = record.pop("name", "") or None
        tags = read_tags(record.pop("tags", ""))
        fields = {k: v for k, v in record.items() if v}
        rows.append(
            ContactRow(
                line=line,
                contact=Contact(phone=phone, name=name, fields=fields, tags=tags),
                marketing=None if not consent else consent in _YES,
            )
        )
    return rows, problems


async def import_contacts(
    store: _Store,
    rows: list[ContactRow],
    *,
    business_number: str | None,
    source_name: str,
    on_row: Callable[[], None] = lambda: None,
) -> int:
    """Store the contacts (replacing what was there) and their marketing consent."""
    for row in rows:
        await store.put_contact(row.contact)
        if row.marketing is not None:
            if business_number is None:
                raise ValueError("marketing consent is kept per business number: none is set")
            await store.record_consent(
                [
                    ConsentEvent(
                        business_number=business_number,
                        subscriber=row.contact.phone,
                        kind=ConsentKind.MARKETING,
                        granted=row.marketing,
                        source=ConsentSource.IMPORT,
                        at=utcnow(),
                        evidence=f"{source_name} line {row.line}",
                    )
                ]
            )
        on_row()
    return len(rows)
