"""Canned responses, personalised with the subscriber's details. A placeholder with
no value is refused by name, rather than texting "Hi ,"."""

from __future__ import annotations

from collections.abc import Mapping

from bridge.config import Business
from bridge.models import Contact
from bridge.templates import fill, placeholders


class MissingField(ValueError):
    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def fields_of(contact: Contact | None, business: Business, phone: str) -> dict[str, str]:
    values = {
        "business_name": business.name,
        "business_contact": business.contact,
        "phone": phone,
    }
    if contact is not None:
        values |= {key.lower(): value for key, value in contact.fields.items()}
        if contact.name:
            values["name"] = contact.name
            values["first_name"] = contact.name.split()[0]
    return values


def personalise(
    template: str,
    contact: Contact | None,
    business: Business,
    phone: str,
    extra: Mapping[str, str] | None = None,
) -> str:
    """`extra`: values a text of the bridge's own adds (a review link)."""
    values = fields_of(contact, business, phone) | dict(extra or {})
    names = placeholders(template)
    for name in names:
        if not values.get(name.lower(), "").strip():
            raise MissingField(name)
    return fill(template, {name: values[name.lower()] for name in names})
