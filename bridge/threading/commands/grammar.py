"""`/sms …` text → a `Command`: the grammar every command shares (its words, then its
arguments in a declared order), and the usage line. Pure parsing, no I/O; what each
command is and does is declared in the modules next to this one.

Slack does not say which thread a slash command was typed in, so commands name
their conversation: `#42`, or the subscriber's number in any common format."""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from bridge.models import Channel
from bridge.phones import InvalidPhone, is_phone_text, subscriber_number

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_NUMBER = re.compile(r"#(\d{1,9})")
_FIELD = re.compile(r"([a-z_][a-z0-9_]{0,40})=(\"[^\"]*\"|\S*)", re.IGNORECASE)
_CAMPAIGN_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")
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


class Target(BaseModel):
    model_config = ConfigDict(frozen=True)

    phone: str | None = None
    number: int | None = None
    channel: Channel = Channel.SMS  # of the phone: `whatsapp:+1…` names a WhatsApp one


class Command(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: str  # the command's name (`Spec.name`)
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
    prefix, colon, rest = words[0].partition(":")
    channel, first = (
        (Channel.WHATSAPP, rest)
        if colon and prefix.lower() == "whatsapp"
        else (Channel.SMS, words[0])
    )
    for size in range(min(_MAX_PHONE_WORDS, len(words)), 0, -1):
        candidate = " ".join([first, *words.list()[1:size]])
        if not is_phone_text(candidate):
            continue
        try:
            return Target(phone=subscriber_number(candidate), channel=channel), words.after(size)
        except InvalidPhone:
            continue
    raise UsageError(f"“{words[0]}” is not a phone number or a conversation number like #42.")


def _at_most(text: str, limit: int, what: str) -> str:
    if len(text) > limit:
        raise UsageError(f"{what} is at most {limit:,} characters ({len(text):,} given).")
    return text


class Arg(StrEnum):
    """What a command takes after its words, in order."""

    TARGET = "<target>"  # a conversation; when missing, the person is offered a picker
    PHONE = "<phone>"
    USER = "@user"
    NAME = "<name>"  # a canned response's name
    TEXT = "<text>"  # the rest, required
    REASON = "[reason]"  # the rest, optional
    FIELDS = "[name=… field=…]"
    SWITCH = "[on [until <when>] | off]"  # the rest, optional, read by its command
    TEAM = "<team>"  # a routing team's name
    WEEKS = "[weeks <n>]"  # the rest, optional, read by its command
    CAMPAIGN = "<campaign id>"


class Syntax(Protocol):
    """What the parser reads of a command's declaration."""

    @property
    def name(self) -> str: ...

    @property
    def words(self) -> str: ...

    @property
    def args(self) -> tuple[Arg, ...]: ...

    @property
    def limit(self) -> tuple[int, str]: ...

    @property
    def alone(self) -> tuple[str, ...]: ...

    @property
    def lenient(self) -> bool: ...


def usage(spec: Syntax) -> str:
    return " ".join((spec.words, *spec.args))


TARGETS = "A <target> is a phone number or a conversation number like #42."


def usage_line(commands: Sequence[Syntax]) -> str:
    return "Usage: " + " · ".join(f"`{usage(spec)}`" for spec in commands) + ". " + TARGETS


def _spec(words: _Words, commands: Sequence[Syntax]) -> Syntax | None:
    """The command whose words the text starts with (the longest: `canned add`
    before `canned`)."""
    typed = [w.lower() for w in words.list()[:2]]
    found = [s for s in commands if s.words.split() == typed[: len(s.words.split())]]
    return max(found, key=lambda s: len(s.words), default=None)


def parse(text: str, commands: Sequence[Syntax]) -> Command:
    _at_most(text, MAX_COMMAND, "A command")
    words = _Words(text, list(re.finditer(r"\S+", text)))
    bare = " ".join(words.list()).lower()
    for spec in commands:
        if bare in spec.alone:
            return Command(action=spec.name)
    found = _spec(words, commands)
    if found is None:
        raise UsageError(f"There is no `/sms {words[0]}`.")
    spec = found
    if spec.lenient:  # `help me`: whatever follows is not an error
        return Command(action=spec.name)
    rest = words.after(len(spec.words.split()))
    values: dict[str, Any] = {}
    for arg in spec.args:
        rest = _take(spec, arg, rest, values)
    if len(rest):
        raise UsageError(f"`/sms {usage(spec)}` takes nothing more.")
    return Command(action=spec.name, **values)


def _take(spec: Syntax, arg: Arg, words: _Words, values: dict[str, Any]) -> _Words:
    """Read `arg` from the start of `words` into `values`; the words after it."""
    if arg is Arg.TARGET:
        values["target"], words = _target(words)
        return words
    if arg is Arg.PHONE:
        target, after = _target(words) if len(words) else (None, words)
        if target is None or target.phone is None:
            raise UsageError(f"`/sms {usage(spec)}` needs a phone number.")
        values["target"] = target
        return after
    if arg is Arg.USER:
        mention = _MENTION.fullmatch(words[0]) if len(words) else None
        if values.get("target") is not None and mention is None:
            raise UsageError(f"Name the person: `/sms {usage(spec)}`.")
        values["user"] = mention.group(1) if mention else None
        return words.after(1) if mention else words
    if arg is Arg.NAME:
        if not len(words):
            raise UsageError(f"`/sms {usage(spec)}` needs a name.")
        if not _CANNED_NAME.fullmatch(words[0]):
            raise UsageError(f"“{words[0]}” is not a name: letters, digits, - or _.")
        values["name"] = words[0].lower()
        return words.after(1)
    if arg is Arg.CAMPAIGN:
        if not len(words) or not _CAMPAIGN_ID.fullmatch(words[0]):
            raise UsageError(f"`/sms {usage(spec)}` needs a campaign id (`/sms campaign list`).")
        values["name"] = words[0]
        return words.after(1)
    if arg is Arg.TEAM:
        if not len(words):
            raise UsageError(f"`/sms {usage(spec)}` needs a team.")
        values["name"] = words[0]
        return words.after(1)
    if arg is Arg.FIELDS:
        values["fields"] = _fields(words.rest_text())
        return words.after(len(words))
    text = words.rest_text()  # TEXT, REASON or SWITCH: the rest, with its own spacing
    if arg is Arg.TEXT and not text:
        raise UsageError(f"`/sms {usage(spec)}` needs the text.")
    values["text"] = _at_most(text, *spec.limit)
    return words.after(len(words))


def _fields(text: str) -> dict[str, str]:
    found = {m.group(1).lower(): m.group(2).strip('"') for m in _FIELD.finditer(text)}
    if text and not found:
        raise UsageError("Contact details are written like `name=Ana city=Oakland`.")
    if len(found) > MAX_FIELDS:
        raise UsageError(f"A contact has at most {MAX_FIELDS} details.")
    for name, value in found.items():
        _at_most(value, MAX_NAME if name == "name" else MAX_FIELD, f"`{name}`")
    return found
