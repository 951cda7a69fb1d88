"""Which option a text chooses, if it is a poll answer at all.

Forgiving with the forms people use for a choice ("a", "B)", "(c)", "option b", "I vote
C", "Mango!", "2", "2️⃣") and strict with everything else: a question or a sentence is
not an answer, so it reaches the inbox instead of vanishing into a tally. Pure."""

from __future__ import annotations

import re
import unicodedata

from bridge.campaigns.models import Poll

# Longer than any way of naming an option: a sentence, not an answer.
MAX_ANSWER_CHARS = 60
# Words around a choice that do not change it ("I vote C", "option b please").
_FILLER = frozenset(
    "i id im my vote votes voting pick choose choice option number letter answer is "
    "go with for say like want please pls thanks thank you".split()
)
_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> list[str]:
    # NFKC folds full-width letters; a keycap ("2️⃣") leaves its digit as a word.
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def read_poll_answer(poll: Poll, text: str) -> str | None:
    """The chosen option's letter (the poll's own key), or None: not an answer."""
    stripped = text.strip()
    if not stripped or len(stripped) > MAX_ANSWER_CHARS or "?" in stripped:
        return None
    if len(stripped.splitlines()) > 1:
        return None
    words = _words(stripped)
    choice = " ".join(w for w in words if w not in _FILLER) or " ".join(words)
    if not choice:
        return None
    letters = list(poll.options)
    for letter in letters:
        if choice == letter.casefold():
            return letter
    if choice.isdigit() and 1 <= int(choice) <= len(letters):
        return letters[int(choice) - 1]
    for letter, label in poll.options.items():
        if choice == " ".join(_words(label)):
            return letter
    return None
