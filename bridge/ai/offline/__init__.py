"""The embedded drafting engine: BM25 retrieval over the knowledge base plus rules.

Per draft: the customer's latest texts are normalised (lowercase, SMS shorthand, common
phrasings, a light stemmer, a small thesaurus of customer-service words), misspelt words
are corrected against the knowledge base's own vocabulary, and `bm25s` scores every entry.
The best entry is proposed only when it clearly matches:

- coverage: the share of the question's information (IDF-weighted words) that the entry
  contains. A word the base does not know weighs by its rarity in general English
  (pyspellchecker's frequency list): "kombucha" or "croissants" weigh like a rare word, so
  a question about something the base never mentions has low coverage and is handed off,
  while "buy" or "online" barely count. Everyday words (GENERAL_WORDS: "bring", "tomorrow",
  "option") count little either way;
- margin: how far the best entry scores above the best *different* answer (entries whose
  answers say the same thing do not compete).

Both are folded into `confidence`. Rules on the raw text find the intent and urgency and
hand off what a person must handle whatever the knowledge base says: opt-out requests,
complaints and refunds, urgent or safety issues, order look-ups, appointment changes,
requests for a person, and texts that try to instruct the assistant.

Cost: the index is built once per knowledge-base version (`prepare`, in a thread from
`draft`); a draft then takes well under a millisecond for 500 entries (see
bench/ai_eval.py), so `draft` runs it inline; `draft_sync` is the same without a loop.
"""

from bridge.ai.offline.engine import OfflineDrafter, OfflineSettings
from bridge.ai.offline.index import Hit, Retrieval
from bridge.ai.offline.rules import APPOINTMENT_ACK

__all__ = ["APPOINTMENT_ACK", "Hit", "OfflineDrafter", "OfflineSettings", "Retrieval"]
