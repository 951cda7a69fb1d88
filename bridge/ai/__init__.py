"""AI first response: the knowledge base, the drafter interface and its engines."""

from bridge.ai.drafter import Draft, Drafter, DraftUnavailable, Turn
from bridge.ai.knowledge import (
    BusinessProfile,
    Entry,
    FaqItem,
    KbLimits,
    KnowledgeBase,
    KnowledgeError,
    KnowledgeSource,
    knowledge_signature,
    load_knowledge,
)
from bridge.models import Intent, Urgency

__all__ = [
    "BusinessProfile",
    "Draft",
    "DraftUnavailable",
    "Drafter",
    "Entry",
    "FaqItem",
    "Intent",
    "KbLimits",
    "KnowledgeBase",
    "KnowledgeError",
    "KnowledgeSource",
    "Turn",
    "Urgency",
    "knowledge_signature",
    "load_knowledge",
]
