"""`/sms kb`: what the assistant's knowledge base holds, reading it again, and the
entries agents correct most."""

from __future__ import annotations

from bridge.threading.commands.answers import Answer, KnowledgeCorrections, Said
from bridge.threading.commands.spec import Call, Spec


async def _status(call: Call) -> Answer:
    knowledge = call.services.knowledge
    return Said.ASSISTANT_OFF if knowledge is None else knowledge.status()


async def _reload(call: Call) -> Answer:
    knowledge = call.services.knowledge
    return Said.ASSISTANT_OFF if knowledge is None else await knowledge.reload()


async def _corrections(call: Call) -> Answer:
    knowledge = call.services.knowledge
    if knowledge is None:
        return Said.ASSISTANT_OFF
    outcomes = await call.services.store.draft_outcomes(limit=CORRECTIONS_SHOWN)
    return KnowledgeCorrections(tuple((o, knowledge.title(o.entry_id)) for o in outcomes))


CORRECTIONS_SHOWN = 10
STATUS = Spec("kb", "kb", _status, (), "what the knowledge base holds", "kb")
RELOAD = Spec("kb reload", "kb reload", _reload, (), "read the knowledge base again", "kb reload")
CORRECTIONS = Spec(
    "kb corrections",
    "kb corrections",
    _corrections,
    (),
    "the knowledge-base entries whose drafts agents edit or discard most",
    "kb corrections",
)
COMMANDS = (STATUS, RELOAD, CORRECTIONS)
