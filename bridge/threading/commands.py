"""`/sms …` text → a command model, or the usage line. Pure parsing, no I/O.

Slack does not say which thread a slash command was typed in, so commands name
their conversation: `#42`, or the subscriber's number in any common format."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bridge.phones import InvalidPhone, is_phone_text, subscriber_number

USAGE = (
    "Usage: `/sms assign <target> @user` · `unassign <target>` · `resolve <target>` · "
    "`reopen <target>` · `flag <target> [reason]` · `unflag <target>` · `canned list` · "
    "`canned add <name> <text>` · `canned remove <name>` · `canned <name> <target>` · "
    "`send <phone> <text>` · `contact <target> [name=… field=…]` · `kb` · `kb reload` · "
    "`help`. "
    "A <target> is a phone number or a conversation number like #42."
)

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_NUMBER = re.compile(r"#(\d{1,9})")
_FIELD = re.compile(r"([a-z_][a-z0-9_]{0,40})=(\"[^\"]*\"|\S*)", re.IGNORECASE)
_CANNED_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,40}", re.IGNORECASE)
# A phone number written with spaces spans a few words: "(415) 555 0123".
_MAX_PHONE_WORDS = 5
# What a person may type, bounded: every text is stored, shown and maybe texted.
MAX_COMMAND = 8000
MAX_REASON = 500  # a flag reason
MAX_TEXT = 1600  # a text to send or a canned response: what one SMS may carry
MAX_NAME = 200  # a contact's name
MAX_FIELD = 500  # a contact field's value
MAX_FIELDS = 30


class Action(StrEnum):
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    FLAG = "flag"
    UNFLAG = "unflag"
    CANNED_LIST = "canned list"
    CANNED_ADD = "canned add"
    CANNED_REMOVE = "canned remove"
    CANNED_SEND = "canned send"
    SEND = "send"
    CONTACT = "contact"
    KB_STATUS = "kb"
    KB_RELOAD = "kb reload"
    HELP = "help"


class Target(BaseModel):
    model_config = ConfigDict(frozen=True)

    phone: str | None = None
    number: int | None = None


class Command(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: Action
    target: Target | None = None  # None where one is needed: answer with a picker
    user: str | None = None  # assign's @user
    name: str | None = None  # a canned response's name
    text: str = ""  # a flag reason, a text to send, a canned response's text
    fields: dict[str, str] = {}


class UsageError(ValueError):
    """The text is not a command; the message says what is wrong, then the usage."""


class _Words:
    """The words of a command, each knowing where it starts in the original text, so
    free text (a reason, a message) keeps its own spacing."""

    def __init__(self, text: str, matches: list[re.Match[str]]) -> None:
        self._text = text
        self._matches = matches

    def __len__(self) -> int:
        return len(self._matches)

    def __getitem__(self, index: int) -> str:
        return self._matches[index].group()

    def after(self, count: int) -> _Words:
        return _Words(self._text, self._matches[count:])

    def rest_text(self) -> str:
        return self._text[self._matches[0].start() :].strip() if self._matches else ""

    def list(self) -> list[str]:
        return [m.group() for m in self._matches]


def _target(words: _Words) -> tuple[Target | None, _Words]:
    """The target at the start of `words`, and the words after it."""
    if not len(words):
        return None, words
    if match := _NUMBER.fullmatch(words[0]):
        return Target(number=int(match.group(1))), words.after(1)
    for size in range(min(_MAX_PHONE_WORDS, len(words)), 0, -1):
        candidate = " ".join(words.list()[:size])
        if not is_phone_text(candidate):
            continue
        try:
            return Target(phone=subscriber_number(candidate)), words.after(size)
        except InvalidPhone:
            continue
    raise UsageError(f"“{words[0]}” is not a phone number or a conversation number like #42.")


def _at_most(text: str, limit: int, what: str) -> str:
    if len(text) > limit:
        raise UsageError(f"{what} is at most {limit:,} characters ({len(text):,} given).")
    return text


def parse(text: str) -> Command:
    _at_most(text, MAX_COMMAND, "A command")
    words = _Words(text, list(re.finditer(r"\S+", text)))
    if not len(words) or words[0].lower() == "help":
        return Command(action=Action.HELP)
    head, rest = words[0].lower(), words.after(1)
    if head == "canned":
        return _canned(rest)
    if head == "kb":
        if not len(rest):
            return Command(action=Action.KB_STATUS)
        if len(rest) == 1 and rest[0].lower() == "reload":
            return Command(action=Action.KB_RELOAD)
        raise UsageError("`/sms kb` shows the knowledge base; `/sms kb reload` reloads it.")
    if head in {"assign", "unassign", "resolve", "reopen", "flag", "unflag", "contact", "send"}:
        target, after = _target(rest)
        action = Action(head)
        if action is Action.ASSIGN:
            mention = _MENTION.fullmatch(after[0]) if len(after) else None
            if target is not None and mention is None:
                raise UsageError("Name the person to assign, like `/sms assign #42 @ana`.")
            return Command(action=action, target=target, user=mention.group(1) if mention else None)
        if action is Action.SEND:
            if target is None or target.phone is None or not len(after):
                raise UsageError("`/sms send` takes a phone number and the text to send.")
            return Command(
                action=action, target=target, text=_at_most(after.rest_text(), MAX_TEXT, "A text")
            )
        if action is Action.CONTACT:
            return Command(action=action, target=target, fields=_fields(after.rest_text()))
        if action is Action.FLAG:
            reason = _at_most(after.rest_text(), MAX_REASON, "A flag reason")
            return Command(action=action, target=target, text=reason)
        if len(after):
            raise UsageError(f"`/sms {head}` takes only a target.")
        return Command(action=action, target=target)
    raise UsageError(f"There is no `/sms {words[0]}`.")


def _canned(words: _Words) -> Command:
    if not len(words) or words[0].lower() == "list":
        return Command(action=Action.CANNED_LIST)
    sub, rest = words[0].lower(), words.after(1)
    if sub in {"add", "remove"}:
        if not len(rest) or not _CANNED_NAME.fullmatch(rest[0]):
            raise UsageError("A canned response needs a name of letters, digits, - or _.")
        if sub == "remove":
            return Command(action=Action.CANNED_REMOVE, name=rest[0].lower())
        if len(rest) < 2:
            raise UsageError("`/sms canned add <name> <text>` needs the text.")
        text = _at_most(rest.after(1).rest_text(), MAX_TEXT, "A canned response")
        return Command(action=Action.CANNED_ADD, name=rest[0].lower(), text=text)
    if not _CANNED_NAME.fullmatch(words[0]):
        raise UsageError(f"“{words[0]}” is not a canned response name.")
    target, after = _target(rest)
    if len(after):
        raise UsageError("`/sms canned <name> <target>` takes only a target after the name.")
    return Command(action=Action.CANNED_SEND, name=words[0].lower(), target=target)


def _fields(text: str) -> dict[str, str]:
    found = {m.group(1).lower(): m.group(2).strip('"') for m in _FIELD.finditer(text)}
    if text and not found:
        raise UsageError("Contact details are written like `name=Ana city=Oakland`.")
    if len(found) > MAX_FIELDS:
        raise UsageError(f"A contact has at most {MAX_FIELDS} details.")
    for name, value in found.items():
        _at_most(value, MAX_NAME if name == "name" else MAX_FIELD, f"`{name}`")
    return found
