"""What `/sms` commands do. The Slack edge parses nothing and decides nothing: it
hands over a `Command` and shows the `Reply` to the person who typed it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bridge.config import Business, SlackSection
from bridge.events import (
    KnowledgeNotReloaded,
    KnowledgeReloaded,
    KnowledgeStatus,
    Problem,
    Snag,
    Stopped,
)
from bridge.models import Channel, ConsentState, Contact, Conversation, InboxFilter
from bridge.store.base import CannedStore, ConsentStore, ContactStore, ConversationStore
from bridge.templates import TemplateError, placeholders
from bridge.threading.canned import MissingField, personalise
from bridge.threading.commands import Action, Command, Target, help_text
from bridge.threading.lifecycle import Changed, ConversationDesk
from bridge.threading.outbound import OutboundPipeline


class _Store(ConversationStore, ConsentStore, ContactStore, CannedStore, Protocol):
    """The store roles this module uses."""


PICKER_SIZE = 10


class KnowledgeCommands(Protocol):
    """`/sms kb` and `/sms kb reload`, answered by the assistant (passed in, so
    conversations never import it)."""

    def status(self) -> KnowledgeStatus: ...

    async def reload(self) -> KnowledgeReloaded | KnowledgeNotReloaded: ...


class Said(StrEnum):
    """Answers that need no details to be told."""

    ASSISTANT_OFF = "assistant_off"  # `ai.enabled: false`
    NEEDS_FROM_NUMBER = "needs_from_number"  # /sms send without TWILIO_FROM_NUMBER
    WHICH_CONVERSATION = "which_conversation"  # with the picker
    NO_SUCH_CONVERSATION = "no_such_conversation"
    NO_CANNED = "no_canned"


@dataclass(frozen=True)
class AdminOnly:
    action: str


@dataclass(frozen=True)
class HelpText:
    text: str  # plain text


@dataclass(frozen=True)
class StartedSending:
    phone: str
    conversation_id: int


@dataclass(frozen=True)
class CannedList:
    items: tuple[tuple[str, str], ...]  # (name, text)


@dataclass(frozen=True)
class CannedSaved:
    name: str


@dataclass(frozen=True)
class CannedRemoved:
    name: str
    removed: bool  # False: there was none of that name


@dataclass(frozen=True)
class CannedBroken:
    error: str  # the broken placeholder


@dataclass(frozen=True)
class CannedUnknown:
    name: str


@dataclass(frozen=True)
class CannedNeedsField:
    name: str
    field: str
    subscriber: str
    conversation_id: int


CannedProblem = CannedUnknown | CannedNeedsField


@dataclass(frozen=True)
class CannedSending:
    name: str
    conversation_id: int
    text: str


@dataclass(frozen=True)
class ContactCard:
    conversation_id: int
    contact: Contact
    consent: ConsentState


Answer = (
    Said
    | AdminOnly
    | HelpText
    | StartedSending
    | CannedList
    | CannedSaved
    | CannedRemoved
    | CannedBroken
    | CannedProblem
    | CannedSending
    | ContactCard
    | Changed
    | KnowledgeStatus
    | KnowledgeReloaded
    | KnowledgeNotReloaded
    | Problem
)


@dataclass(frozen=True)
class Reply:
    """An ephemeral answer; `picker` lists conversations to choose from when the
    command named none."""

    answer: Answer
    picker: tuple[Conversation, ...] = ()


class CommandDesk:
    def __init__(
        self,
        store: _Store,
        desk: ConversationDesk,
        outbound: OutboundPipeline,
        *,
        business: Business,
        slack: SlackSection,
        business_number: str | None,
        knowledge: KnowledgeCommands | None = None,
    ) -> None:
        self._knowledge = knowledge
        self._store = store
        self._desk = desk
        self._outbound = outbound
        self._business = business
        self._slack = slack
        self._business_number = business_number

    async def find(self, target: Target) -> Conversation | None:
        if target.number is not None:
            return await self._store.get_conversation(target.number)
        assert target.phone is not None
        if self._business_number is None:
            return None  # with only a Messaging Service, conversations are named by #id
        return await self._store.find_conversation(
            self._business_number, target.phone, target.channel
        )

    def _admin_only(self, command: Command, user: str) -> bool:
        return (
            bool(self._slack.admins)
            and user not in self._slack.admins
            and (command.action.value in self._slack.admin_actions)
        )

    async def run(self, command: Command, user: str, *, key: str | None = None) -> Reply:
        """`key` identifies the trigger when it may be delivered twice (a reaction)."""
        if self._admin_only(command, user):
            return Reply(AdminOnly(command.action.value))
        if command.action is Action.HELP:
            return Reply(HelpText(help_text()))
        if command.action in (Action.KB_STATUS, Action.KB_RELOAD):
            if self._knowledge is None:
                return Reply(Said.ASSISTANT_OFF)
            if command.action is Action.KB_STATUS:
                return Reply(self._knowledge.status())
            return Reply(await self._knowledge.reload())
        if command.action is Action.CANNED_LIST:
            return await self._canned_list()
        if command.action is Action.CANNED_ADD:
            return await self._canned_add(command)
        if command.action is Action.CANNED_REMOVE:
            removed = await self._store.delete_canned(str(command.name))
            return Reply(CannedRemoved(str(command.name), removed))
        if command.action is Action.SEND:
            phone = command.target.phone if command.target else None
            assert phone is not None  # the parser requires it
            if self._business_number is None:
                return Reply(Said.NEEDS_FROM_NUMBER)
            assert command.target is not None
            if command.target.channel is Channel.WHATSAPP:
                # Only within 24 hours of the subscriber's last message: the one they
                # have with the business already, if any.
                found = await self.find(command.target)
                if found is None:
                    return Reply(Stopped(snag=Snag.WINDOW_CLOSED))
                started = found
            else:
                started = await self._store.open_conversation(self._business_number, phone)
            problem = await self._outbound.send_text(started, command.text, author=user)
            return Reply(problem or StartedSending(phone, started.id))
        if command.target is None:
            recent = await self._store.list_conversations(InboxFilter.OPEN, limit=PICKER_SIZE)
            return Reply(Said.WHICH_CONVERSATION, picker=tuple(recent))
        conversation = await self.find(command.target)
        if conversation is None:
            return Reply(Said.NO_SUCH_CONVERSATION)
        return await self._on_conversation(command, conversation, user, key)

    async def _on_conversation(
        self, command: Command, conversation: Conversation, user: str, key: str | None
    ) -> Reply:
        desk, action = self._desk, command.action
        if action is Action.ASSIGN:
            assert command.user is not None
            return Reply(await desk.assign(conversation, command.user, by=user))
        if action is Action.UNASSIGN:
            return Reply(await desk.unassign(conversation, by=user))
        if action is Action.RESOLVE:
            return Reply(await desk.resolve(conversation, by=user))
        if action is Action.REOPEN:
            return Reply(await desk.reopen(conversation, by=user))
        if action is Action.FLAG:
            return Reply(await desk.flag(conversation, by=user, reason=command.text))
        if action is Action.UNFLAG:
            return Reply(await desk.unflag(conversation, by=user))
        if action is Action.CONTACT:
            return await self._contact(command, conversation)
        return await self._canned_send(command, conversation, user, key)

    async def _canned_list(self) -> Reply:
        canned = await self._store.list_canned()
        return Reply(CannedList(tuple(canned.items())) if canned else Said.NO_CANNED)

    async def _canned_add(self, command: Command) -> Reply:
        try:
            placeholders(command.text)
        except TemplateError as exc:
            return Reply(CannedBroken(str(exc)))
        await self._store.put_canned(str(command.name), command.text)
        return Reply(CannedSaved(str(command.name)))

    async def _render(
        self, name: str, conversation: Conversation
    ) -> tuple[str, CannedProblem | None]:
        """(the personalised text, or why there is none)."""
        template = (await self._store.list_canned()).get(name)
        if template is None:
            return "", CannedUnknown(name)
        contact = await self._store.get_contact(conversation.subscriber)
        try:
            return personalise(template, contact, self._business, conversation.subscriber), None
        except MissingField as exc:
            return "", CannedNeedsField(name, exc.field, conversation.subscriber, conversation.id)

    async def preview(self, name: str, conversation: Conversation) -> str | CannedProblem:
        """A canned response as this subscriber would get it, or why it can't go out."""
        text, problem = await self._render(name, conversation)
        return problem or text

    async def canned_problem(
        self, name: str, conversation: Conversation
    ) -> CannedProblem | Problem | None:
        text, problem = await self._render(name, conversation)
        return problem or (await self._outbound.check_text(conversation, text))[0]

    async def _canned_send(
        self, command: Command, conversation: Conversation, user: str, key: str | None
    ) -> Reply:
        text, unknown = await self._render(str(command.name), conversation)
        if unknown is not None:
            return Reply(unknown)
        problem = await self._outbound.send_text(
            conversation, text, author=user, canned=str(command.name), key=key
        )
        return Reply(problem or CannedSending(str(command.name), conversation.id, text))

    async def _contact(self, command: Command, conversation: Conversation) -> Reply:
        contact = await self._store.get_contact(conversation.subscriber) or Contact(
            phone=conversation.subscriber
        )
        if command.fields:
            name = command.fields.get("name", contact.name)
            fields = contact.fields | {k: v for k, v in command.fields.items() if k != "name"}
            contact = Contact(phone=contact.phone, name=name or None, fields=fields)
            await self._store.put_contact(contact)
            await self._desk.contact_changed(conversation)
        consent = await self._store.consent_state(
            conversation.business_number, conversation.subscriber
        )
        return Reply(ContactCard(conversation.id, contact, consent))
