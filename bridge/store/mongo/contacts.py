"""Subscribers' names and details."""

from __future__ import annotations

from bridge.models import Contact
from bridge.store.mongo import documents
from bridge.store.mongo.connection import MongoConnection
from bridge.store.mongo.documents import Doc


class ContactDocuments(MongoConnection):
    """ContactStore on MongoDB."""

    async def get_contact(self, phone: str) -> Contact | None:
        doc: Doc | None = await self._contacts.find_one({"_id": phone})
        return None if doc is None else documents.contact(doc)

    async def put_contact(self, contact: Contact) -> None:
        # Field names come from imported spreadsheets: as list items they may hold
        # "." or "$", which MongoDB field names may not do safely.
        await self._contacts.replace_one(
            {"_id": contact.phone},
            {
                "name": contact.name,
                "fields": [{"name": k, "value": v} for k, v in contact.fields.items()],
                "tags": list(contact.tags),
            },
            upsert=True,
        )
