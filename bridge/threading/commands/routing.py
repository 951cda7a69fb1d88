"""`/sms route`: move a conversation to a routing team's channel. The move itself is a
job in the conversation's lane (a new parent there, notes linking both threads), so
no text is posted into the old thread while it moves."""

from __future__ import annotations

from bridge.jobs import move_job
from bridge.models import utcnow
from bridge.threading.commands.answers import Answer, NoSuchTeam, Rerouting
from bridge.threading.commands.grammar import Arg
from bridge.threading.commands.spec import Call, Spec


async def _route(call: Call) -> Answer:
    routing = call.services.routing
    team = routing.team_named(call.command.name or "")
    if team is None:
        return NoSuchTeam(call.command.name or "", tuple(routing.teams))
    conversation = call.conversation
    if conversation.team == team:
        return Rerouting(conversation.id, team, already=True)
    job = move_job(conversation.id, team, by=call.user)
    await call.services.store.enqueue(job, run_at=utcnow())
    return Rerouting(conversation.id, team)


ROUTE = Spec(
    "route",
    "route",
    _route,
    (Arg.TARGET, Arg.TEAM),
    "move it to a team's channel",
    "route #42 sales",
)
COMMANDS = (ROUTE,)
