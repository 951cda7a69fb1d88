"""`/sms contact`: show or set what the bridge knows of a subscriber."""

from __future__ import annotations

from bridge.models import Contact
from bridge.threading.commands.answers import Answer, ContactCard
from bridge.threading.commands.grammar import Arg
from bridge.threading.commands.spec import Call, Spec
from bridge.threading.contacts import read_tags


async def _contact(call: Call) -> Answer:
    store, conversation, changes = call.services.store, call.conversation, call.command.fields
    contact = await store.get_contact(conversation.subscriber) or Contact(
        phone=conversation.subscriber
    )
    if changes:
        name = changes.get("name", contact.name)
        # `tags=` replaces them, written as the contacts import reads them.
        tags = read_tags(changes["tags"]) if "tags" in changes else contact.tags
        fields = contact.fields | {k: v for k, v in changes.items() if k not in ("name", "tags")}
        contact = Contact(phone=contact.phone, name=name or None, fields=fields, tags=tags)
        await store.put_contact(contact)
        await call.services.desk.contact_changed(conversation)
    consent = await store.consent_state(
        conversation.business_number, conversation.subscriber, conversation.channel
    )
    return ContactCard(conversation.id, contact, consent)


CONTACT = Spec(
    "contact",
    "contact",
    _contact,
    (Arg.TARGET, Arg.FIELDS),
    "show or set contact details",
    'contact #42 name="Ana Ruiz"',
)
COMMANDS = (CONTACT,)
