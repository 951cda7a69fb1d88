"""Reads a 1-5 rating from a subscriber's reply to a feedback request. Pure.

Forgiving about the form ("5", "5 stars", "4 out of 5", "⭐⭐⭐⭐", "4️⃣", "five",
"I'd give it a 4"), strict about meaning: a text that merely contains a number
("I have 2 questions about my bill") is not a rating, and two different ratings in
one text ("4 or 5") are none — such texts go to the inbox, where a person reads them.
"""

from __future__ import annotations

import re
import unicodedata

_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
# A rating's number: a digit 1-5 or its word, not part of a longer number, a decimal
# or a fraction (but the scale's own "/5" may follow it).
_BARE_NUM = r"(?<![\w.,/])(?P<n>[1-5]|one|two|three|four|five)(?!\w|[.,]\d)"
_NUM = rf"{_BARE_NUM}(?!/\d)"
# The number alone, give or take punctuation and emoji: "5", "5.", "(4)".
_ALONE = re.compile(rf"^[\W_]*{_NUM}[\W_]*$")
# On a scale anywhere in the text: "5 stars", "4/5", "4 out of 5", "2 of five".
_SCALE = re.compile(
    rf"{_BARE_NUM}\s*(?:stars?\b|(?:/|\bout\s+of\b|\bof\b)\s*(?:5|five)(?![\w/]|[.,]\d))"
)
# First, then a separator and words without another number: "1 - terrible", "5!! loved it".
_LEAD = re.compile(rf"^[\W_]*{_NUM}\s*[-–—:!.,)]+\D*$")
# Said in words: "I'd give it a 4", "rating: 2", "rate you guys a 5".
_SAID = re.compile(
    r"\b(?:give|gave|rate|rated|rating|score|scored)\b"
    r"(?:[\s:=-]+(?:it|you|u|guys|yall|them|us|this|that|an?|solid|strong|of|is|was|would|be|my))*"
    rf"[\s:=-]+{_NUM}"
)
# A run of filled stars, optionally padded with empty ones ("★★★☆☆").
_STARS = re.compile(r"(?<![⭐★🌟])([⭐★🌟]+)[☆]*(?![⭐★🌟])")
# Keycap digits ("4️⃣") are the digit plus these; the variation selector also follows stars.
_KEYCAP_MARKS = str.maketrans(dict.fromkeys("\ufe0f\u20e3"))
# Dropped, so "I'd" reads as "id" and the phrases need no apostrophe variants.
_APOSTROPHES = str.maketrans(dict.fromkeys("'’‘ʼ`´"))


def read_rating(text: str) -> int | None:
    """The rating 1-5 the text gives, or None when it gives none or more than one."""
    norm = unicodedata.normalize("NFKC", text.translate(_KEYCAP_MARKS)).casefold()
    norm = " ".join(norm.translate(_APOSTROPHES).split())
    rules = (_ALONE, _SCALE, _LEAD, _SAID)
    found = {_value(m.group("n")) for rule in rules for m in rule.finditer(norm)}
    found |= {len(m.group(1)) for m in _STARS.finditer(norm)}
    if len(found) != 1:
        return None
    (rating,) = found
    return rating if 1 <= rating <= 5 else None


def _value(number: str) -> int:
    return _WORDS.get(number) or int(number)
