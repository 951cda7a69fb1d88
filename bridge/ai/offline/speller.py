"""Typo tolerance for the offline engine, and how much an unknown word weighs."""

from __future__ import annotations

import functools
import gzip
import json
import math
from collections import Counter
from importlib import resources

from bridge.ai.offline.text import KNOWN_WORDS, STOPWORDS
from bridge.remembered import Remembered

# Misspellings are corrected word by word against general English first (pyspellchecker's
# frequency list, distance 1) and the knowledge base's own vocabulary (plus the thesaurus;
# a symmetric-delete index and a Damerau-Levenshtein check: distance 1 for words of 4-7
# letters, 2 from 8 letters), the base's words weighted up KB_BOOST times. So "wats" becomes
# the far more common "was", not "eats" of "Uber Eats", while "delivary" becomes "delivery".
# Only words neither the base nor English knows are touched, so exact matches and BM25's
# word-level statistics stay as they are; words under 4 letters are left alone (acronyms).
# Character n-grams would also tolerate typos, but they give every entry sharing a few
# letters with the question a small score: the scores get flatter, the gap between the
# best and the second-best entry shrinks, and that gap is what tells a clear answer from
# a question the base cannot answer. Corrected words count at CORRECTED_WEIGHT.

CORRECTED_WEIGHT = 0.8
KB_BOOST = 100  # a knowledge-base word counts as this many times more frequent in English
BASE_FLOOR = 1000  # and as at least this frequent ("klarna" is in no English list)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _edits1(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return {
        *(a + b[1:] for a, b in splits if b),
        *(a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1),
        *(a + c + b[1:] for a, b in splits if b for c in _LETTERS),
        *(a + c + b for a, b in splits for c in _LETTERS),
    }


def _deletes(word: str, depth: int) -> set[str]:
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w)) if len(w) > 2}
        found |= frontier
    return found


def damerau_levenshtein(a: str, b: str) -> int:
    """Optimal string alignment distance (adjacent transpositions count as one edit)."""
    if a == b:
        return 0
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[i - 2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


@functools.cache
def english_words() -> dict[str, int]:
    """English word frequencies from pyspellchecker's list (~0.2 s to load, once per
    process; empty if the package is missing), for words seen ENGLISH_MIN_COUNT times.
    Read straight from the package's file: building a SpellChecker takes twice as long."""
    try:
        data = resources.files("spellchecker").joinpath("resources", "en.json.gz").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - a declared dependency
        return {}
    counts: dict[str, int] = json.loads(gzip.decompress(data))
    return {w: n for w, n in counts.items() if n >= ENGLISH_MIN_COUNT}


ENGLISH_MIN_COUNT = 100


@functools.cache
def _english_total() -> int:
    return sum(english_words().values()) or 1


def unknown_word_weight(word: str) -> float:
    """How much a word the knowledge base lacks tells about the question, 0.15-1.

    By its information content in general English, log10(total / count): everyday
    words ("buy" 3.6, "online" 4.9, "near" 3.9) say less about the topic than rare ones
    ("kombucha", unknown; "croissants" 6.4). A general-English IDF for words the base's
    own IDF cannot weigh."""
    count = english_words().get(word, 0)
    if not count:
        return 1.0
    info = math.log10(_english_total() / count)
    return min(1.0, max(0.15, (info - 3.0) / 2.5))


# A real English word is "corrected" only to a word this many times more frequent in
# English ("bred" -> "bread"), never to a comparable one ("lunch" -> "punch", "near" ->
# "year", "shop" -> "ship"): the noisy-channel rule with a uniform error model.
REAL_WORD_RATIO = 5
MEMO_SIZE = 10_000


class Speller:
    def __init__(self, vocabulary: Counter[str]) -> None:
        self.counts = vocabulary
        self.english = english_words()
        # Words seen, corrected (a typo recurs).
        self._memo: Remembered[str, str | None] = Remembered(MEMO_SIZE)
        self._index: dict[str, list[str]] = {}
        for word in vocabulary:
            if len(word) < 3 or not word.isalpha():
                continue
            for variant in _deletes(word, 2 if len(word) >= 7 else 1):
                self._index.setdefault(variant, []).append(word)

    def correct(self, word: str) -> str | None:
        return self._memo.recall(word, lambda: self._correct(word))

    def _correct(self, word: str) -> str | None:
        """The word meant, for a word neither the base nor English knows (a knowledge-base
        word or an English one, possibly a stopword); a real word only to a far more
        frequent base word; None when unsure."""
        if len(word) < 4 or not word.isalpha() or word in self.counts or word in KNOWN_WORDS:
            return None
        real = self.english.get(word, 0)
        limit = 1 if real else 2 if len(word) >= 8 else 1
        candidates: set[str] = set()
        for variant in _deletes(word, limit):
            candidates.update(self._index.get(variant, ()))
        if not real:
            candidates.update(w for w in _edits1(word) if w in self.english)
        best: tuple[int, float, int, str] | None = None
        for candidate in candidates:
            distance = damerau_levenshtein(word, candidate)
            if distance > limit:
                continue
            in_base = candidate in self.counts
            if real and (not in_base or self.english.get(candidate, 0) < REAL_WORD_RATIO * real):
                continue
            if in_base and candidate in STOPWORDS:
                continue
            count = self.english.get(candidate, 0)
            uses = max(self.counts[candidate], 1) if in_base else 0  # entries that use it
            if real:  # only base words: the one the base uses most ("bred": bread, not red)
                frequency = uses * 1e9 + count
            else:
                frequency = max(count, BASE_FLOOR) * KB_BOOST * uses if in_base else count
            key = (distance, -frequency, candidate[0] != word[0], candidate)
            if best is None or key < best:
                best = key
        return best[3] if best else None
