"""Subscribers' names and details."""

from __future__ import annotations

import json

from bridge.models import Contact
from bridge.store.sqlite import rows
from bridge.store.sqlite.connection import SQLiteConnection


class ContactRows(SQLiteConnection):
    """ContactStore on SQLite."""

    async def get_contact(self, phone: str) -> Contact | None:
        row = await self._one("SELECT * FROM contacts WHERE phone = ?", (phone,))
        return None if row is None else rows.contact(row)

    async def put_contact(self, contact: Contact) -> None:
        await self._write(
            "INSERT INTO contacts (phone, name, fields, tags) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (phone) DO UPDATE SET name = excluded.name, fields = excluded.fields,"
            " tags = excluded.tags",
            (contact.phone, contact.name, json.dumps(contact.fields), json.dumps(contact.tags)),
        )
