"""What `/sms` commands do. The Slack edge parses nothing and decides nothing: it
hands over a `Command` and shows the `Reply` to the person who typed it."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.ai.kb_reload import KnowledgeReloader
from bridge.compliance.reply_window import WINDOW_REFUSAL
from bridge.config import Business, SlackSection
from bridge.models import Channel, Contact, Conversation, InboxFilter
from bridge.mrkdwn import escape
from bridge.phones import display
from bridge.store.base import Store
from bridge.templates import TemplateError, placeholders
from bridge.threading.canned import MissingField, personalise
from bridge.threading.commands import Action, Command, Target, help_text
from bridge.threading.lifecycle import ConversationDesk
from bridge.threading.outbound import OutboundPipeline

PICKER_SIZE = 10


@dataclass(frozen=True)
class Reply:
    """An ephemeral answer; `picker` lists conversations to choose from when the
    command named none."""

    text: str
    picker: tuple[Conversation, ...] = ()


class CommandDesk:
    def __init__(
        self,
        store: Store,
        desk: ConversationDesk,
        outbound: OutboundPipeline,
        *,
        business: Business,
        slack: SlackSection,
        business_number: str | None,
        knowledge: KnowledgeReloader | None = None,
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
            return Reply(f"Only admins can use `/sms {command.action.value}`.")
        if command.action is Action.HELP:
            return Reply(escape(help_text()))
        if command.action in (Action.KB_STATUS, Action.KB_RELOAD):
            if self._knowledge is None:
                return Reply("The assistant is off (`ai.enabled: false` in BRIDGE_CONFIG).")
            if command.action is Action.KB_STATUS:
                return Reply(self._knowledge.status())
            return Reply(await self._knowledge.reload())
        if command.action is Action.CANNED_LIST:
            return await self._canned_list()
        if command.action is Action.CANNED_ADD:
            return await self._canned_add(command)
        if command.action is Action.CANNED_REMOVE:
            removed = await self._store.delete_canned(str(command.name))
            return Reply(f"Removed `{command.name}`." if removed else f"No `{command.name}`.")
        if command.action is Action.SEND:
            phone = command.target.phone if command.target else None
            assert phone is not None  # the parser requires it
            if self._business_number is None:
                return Reply("Starting conversations needs TWILIO_FROM_NUMBER to be set.")
            assert command.target is not None
            if command.target.channel is Channel.WHATSAPP:
                # Only within 24 hours of the subscriber's last message: the one they
                # have with the business already, if any.
                found = await self.find(command.target)
                if found is None:
                    return Reply(WINDOW_REFUSAL)
                started = found
            else:
                started = await self._store.open_conversation(self._business_number, phone)
            problem = await self._outbound.send_text(started, command.text, author=user)
            return Reply(
                problem or f"Sending to {display(phone)} (#{started.id}); it shows in its thread."
            )
        if command.target is None:
            recent = await self._store.list_conversations(InboxFilter.OPEN, limit=PICKER_SIZE)
            return Reply(
                "Which conversation? Add its number, like `#42`, or a phone number.",
                picker=tuple(recent),
            )
        conversation = await self.find(command.target)
        if conversation is None:
            return Reply("No conversation with that number. Try `#42` or the phone number.")
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
        if not canned:
            return Reply("No canned responses yet: `/sms canned add <name> <text>`.")
        lines = [f"• `{name}`: {escape(text)}" for name, text in canned.items()]
        return Reply("Canned responses:\n" + "\n".join(lines))

    async def _canned_add(self, command: Command) -> Reply:
        try:
            placeholders(command.text)
        except TemplateError as exc:
            return Reply(f"That text has a broken placeholder: {escape(str(exc))}.")
        await self._store.put_canned(str(command.name), command.text)
        return Reply(f"Saved `{command.name}`.")

    async def _render(self, name: str, conversation: Conversation) -> tuple[str, str | None]:
        """(the personalised text, or why there is none)."""
        template = (await self._store.list_canned()).get(name)
        if template is None:
            return "", f"No canned response `{name}`; `/sms canned list` shows them."
        contact = await self._store.get_contact(conversation.subscriber)
        try:
            return personalise(template, contact, self._business, conversation.subscriber), None
        except MissingField as exc:
            return "", (
                f"Not sent: `{name}` needs `{{{exc.field}}}`, and "
                f"{display(conversation.subscriber)} has none. Set it with "
                f"`/sms contact #{conversation.id} {exc.field}=…`."
            )

    async def preview(self, name: str, conversation: Conversation) -> str:
        """A canned response as this subscriber would get it, or why it can't go out."""
        text, problem = await self._render(name, conversation)
        return problem or text

    async def canned_problem(self, name: str, conversation: Conversation) -> str | None:
        text, problem = await self._render(name, conversation)
        return problem or (await self._outbound.check_text(conversation, text))[0]

    async def _canned_send(
        self, command: Command, conversation: Conversation, user: str, key: str | None
    ) -> Reply:
        text, problem = await self._render(str(command.name), conversation)
        if problem is None:
            problem = await self._outbound.send_text(
                conversation, text, author=user, label=f" canned “{command.name}”", key=key
            )
        return Reply(problem or f"Sending `{command.name}` to #{conversation.id}: “{escape(text)}”")

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
        details = ", ".join(f"{k}={escape(v)}" for k, v in sorted(contact.fields.items()))
        state = "opted out" if not consent.conversational else "texts allowed"
        marketing = "yes" if consent.marketing else "no"
        return Reply(
            f"#{conversation.id} {display(contact.phone)}: {escape(contact.name or '(no name)')}"
            + (f" · {details}" if details else "")
            + f" · consent: {state}, marketing {marketing}"
        )
