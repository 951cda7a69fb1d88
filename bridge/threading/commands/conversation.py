"""Commands that change a conversation's state: who has it, open or resolved, flagged."""

from __future__ import annotations

from bridge.threading.commands.answers import Answer
from bridge.threading.commands.grammar import MAX_REASON, Arg
from bridge.threading.commands.spec import Call, Spec


async def _assign(call: Call) -> Answer:
    # Picked from `/sms assign` with no one named: the person who picked takes it.
    assignee = call.command.user or call.user
    return await call.services.desk.assign(call.conversation, assignee, by=call.user)


async def _unassign(call: Call) -> Answer:
    return await call.services.desk.unassign(call.conversation, by=call.user)


async def _resolve(call: Call) -> Answer:
    return await call.services.desk.resolve(call.conversation, by=call.user)


async def _reopen(call: Call) -> Answer:
    return await call.services.desk.reopen(call.conversation, by=call.user)


async def _flag(call: Call) -> Answer:
    return await call.services.desk.flag(call.conversation, by=call.user, reason=call.command.text)


async def _unflag(call: Call) -> Answer:
    return await call.services.desk.unflag(call.conversation, by=call.user)


ASSIGN = Spec(
    "assign",
    "assign",
    _assign,
    (Arg.TARGET, Arg.USER),
    "give a conversation to a teammate",
    "assign #42 <@U0ANA>",
)
UNASSIGN = Spec(
    "unassign", "unassign", _unassign, (Arg.TARGET,), "take its assignee off", "unassign #42"
)
RESOLVE = Spec("resolve", "resolve", _resolve, (Arg.TARGET,), "mark it resolved", "resolve #42")
REOPEN = Spec("reopen", "reopen", _reopen, (Arg.TARGET,), "open it again", "reopen #42")
FLAG = Spec(
    "flag",
    "flag",
    _flag,
    (Arg.TARGET, Arg.REASON),
    "flag it, with why",
    "flag #42 asks for a refund",
    limit=(MAX_REASON, "A flag reason"),
)
UNFLAG = Spec("unflag", "unflag", _unflag, (Arg.TARGET,), "take the flag off", "unflag #42")
COMMANDS = (ASSIGN, UNASSIGN, RESOLVE, REOPEN, FLAG, UNFLAG)
