"""`/sms kb`: what the assistant's knowledge base holds, and reading it again."""

from __future__ import annotations

from bridge.threading.commands.answers import Answer, Said
from bridge.threading.commands.spec import Call, Spec


async def _status(call: Call) -> Answer:
    knowledge = call.services.knowledge
    return Said.ASSISTANT_OFF if knowledge is None else knowledge.status()


async def _reload(call: Call) -> Answer:
    knowledge = call.services.knowledge
    return Said.ASSISTANT_OFF if knowledge is None else await knowledge.reload()


STATUS = Spec("kb", "kb", _status, (), "what the knowledge base holds", "kb")
RELOAD = Spec("kb reload", "kb reload", _reload, (), "read the knowledge base again", "kb reload")
COMMANDS = (STATUS, RELOAD)
