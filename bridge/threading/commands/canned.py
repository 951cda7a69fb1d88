"""Canned responses: listed, saved, removed, and sent personalised to a conversation."""

from __future__ import annotations

from bridge.events import Problem
from bridge.models import Conversation
from bridge.templates import TemplateError, placeholders
from bridge.threading.canned import MissingField, personalise
from bridge.threading.commands.answers import (
    Answer,
    CannedBroken,
    CannedList,
    CannedNeedsField,
    CannedProblem,
    CannedRemoved,
    CannedSaved,
    CannedSending,
    CannedUnknown,
    Said,
)
from bridge.threading.commands.grammar import MAX_TEXT, Arg
from bridge.threading.commands.spec import Call, Permission, Services, Spec


async def render(
    services: Services, name: str, conversation: Conversation
) -> tuple[str, CannedProblem | None]:
    """(the personalised text, or why there is none)."""
    template = (await services.store.list_canned()).get(name)
    if template is None:
        return "", CannedUnknown(name)
    contact = await services.store.get_contact(conversation.subscriber)
    try:
        return personalise(template, contact, services.business, conversation.subscriber), None
    except MissingField as exc:
        return "", CannedNeedsField(name, exc.field, conversation.subscriber, conversation.id)


async def problem(
    services: Services, name: str, conversation: Conversation
) -> CannedProblem | Problem | None:
    """Why the canned response could not go out to this conversation now, if it could not."""
    text, missing = await render(services, name, conversation)
    return missing or (await services.outbound.check_text(conversation, text))[0]


async def _list(call: Call) -> Answer:
    canned = await call.services.store.list_canned()
    return CannedList(tuple(canned.items())) if canned else Said.NO_CANNED


async def _add(call: Call) -> Answer:
    try:
        placeholders(call.command.text)
    except TemplateError as exc:
        return CannedBroken(str(exc))
    await call.services.store.put_canned(str(call.command.name), call.command.text)
    return CannedSaved(str(call.command.name))


async def _remove(call: Call) -> Answer:
    name = str(call.command.name)
    return CannedRemoved(name, await call.services.store.delete_canned(name))


async def _send(call: Call) -> Answer:
    name, conversation = str(call.command.name), call.conversation
    text, missing = await render(call.services, name, conversation)
    if missing is not None:
        return missing
    refused = await call.services.outbound.send_text(
        conversation, text, author=call.user, canned=name, key=call.key
    )
    return refused or CannedSending(name, conversation.id, text)


LIST = Spec(
    "canned list",
    "canned list",
    _list,
    (),
    "the canned responses",
    "canned list",
    alone=("canned",),
)
ADD = Spec(
    "canned add",
    "canned add",
    _add,
    (Arg.NAME, Arg.TEXT),
    "save a canned response",
    "canned add hours We open at 7.",
    permission=Permission.ADMIN,
    limit=(MAX_TEXT, "A canned response"),
)
REMOVE = Spec(
    "canned remove",
    "canned remove",
    _remove,
    (Arg.NAME,),
    "delete a canned response",
    "canned remove hours",
    permission=Permission.ADMIN,
)
SEND = Spec(
    "canned send",
    "canned",
    _send,
    (Arg.NAME, Arg.TARGET),
    "text a canned response, personalised",
    "canned hours #42",
)
COMMANDS = (LIST, ADD, REMOVE, SEND)
