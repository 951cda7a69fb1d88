"""Every `/sms` command, in the order `/sms help` lists them: a new family of commands
is one line here; a new command is one `Spec` in its family's module."""

from __future__ import annotations

from collections.abc import Iterable

from bridge.threading.commands import (
    away,
    campaign,
    canned,
    contact,
    conversation,
    feedback,
    knowledge,
    push,
    routing,
    sending,
)
from bridge.threading.commands.answers import Answer, HelpText
from bridge.threading.commands.grammar import TARGETS, Command, parse, usage, usage_line
from bridge.threading.commands.spec import Call, Spec


def help_text() -> str:
    lines = [f"`/sms {usage(spec)}` — {spec.does}" for spec in COMMANDS]
    return "\n".join(["The `/sms` commands:", *lines, TARGETS])


async def _help(_call: Call) -> Answer:
    return HelpText(help_text())


HELP = Spec("help", "help", _help, (), "this list", "help", alone=("",), lenient=True)
COMMANDS: tuple[Spec, ...] = (
    *conversation.COMMANDS,
    *canned.COMMANDS,
    *sending.COMMANDS,
    *contact.COMMANDS,
    *knowledge.COMMANDS,
    *away.COMMANDS,
    *routing.COMMANDS,
    *push.COMMANDS,
    *feedback.COMMANDS,
    *campaign.COMMANDS,
    HELP,
)
PICKABLE = frozenset(spec.name for spec in COMMANDS if spec.pickable)
USAGE = usage_line(COMMANDS)


def read(text: str) -> Command:
    """The command typed after `/sms`; `UsageError` says what is wrong."""
    return parse(text, COMMANDS)


def unknown(names: Iterable[str]) -> list[str]:
    """The names that are no command's (a setting that lists commands names them)."""
    known = {spec.name for spec in COMMANDS}
    return [name for name in names if name not in known]
