"""Retrieval over the knowledge base: one BM25 index per knowledge-base version, and
how a question matched it (coverage, margin, the rival answer)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import bm25s
import numpy as np

from bridge.ai.knowledge import Entry, KnowledgeBase
from bridge.ai.offline.speller import CORRECTED_WEIGHT, Speller, unknown_word_weight
from bridge.ai.offline.text import (
    GENERIC_TERMS,
    GENERIC_WEIGHT,
    SYNONYM_GROUPS,
    name_words,
    phrases_for,
    surface_words,
    term,
)

TITLE_REPEAT = 2  # the question side (title, paraphrases) counts this many times


def _entry_text(entry: Entry) -> tuple[list[str], list[str]]:
    """(question side, answer side) texts of an entry."""
    heavy = [entry.title, *entry.alt, entry.keywords]
    light = [entry.topic, entry.answer]
    return heavy, light


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float


@dataclass(frozen=True)
class Retrieval:
    """How a question matched: for drafts, and for tuning and the evaluation."""

    terms: tuple[str, ...]
    corrected: tuple[tuple[str, str], ...]  # (typed, corrected)
    hits: tuple[Hit, ...]  # best first
    coverage: float
    margin: float
    rival: Hit | None  # the best entry with a different answer
    missing: tuple[str, ...]  # question terms the best entry lacks
    on_topic: bool = False  # the best entry's question side has a topic word of the question
    topic_words: int = 0  # topic (non-generic) words of the question the best entry has

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


@dataclass
class Index:
    version: str
    entries: tuple[Entry, ...]
    retriever: bm25s.BM25 | None
    vocab: dict[str, int]
    idf: dict[str, float]
    oov_idf: float
    terms: list[frozenset[str]]  # per entry
    answer_terms: list[frozenset[str]]
    question_terms: list[frozenset[str]]
    speller: Speller
    phrases: list[tuple[re.Pattern[str], str]]
    name_words: frozenset[str]

    def term_ids(self, terms: Iterable[str]) -> list[int]:
        return [self.vocab[t] for t in terms if t in self.vocab]

    def search(self, question: str, k: int, similar_answers: float) -> Retrieval:
        """How a question matches this base: its `k` best entries and how clearly."""
        topical: list[str] = []
        generic: list[str] = []
        fixed: list[str] = []
        corrected: list[tuple[str, str]] = []
        oov: dict[str, str] = {}  # term -> the word typed
        for word in surface_words(question, self.phrases):
            if word in self.name_words:
                continue
            t = term(word)
            if t is None:
                continue
            if t in self.vocab:
                (generic if t in GENERIC_TERMS or t.isdigit() else topical).append(t)
                continue
            fix = self.speller.correct(word)
            if fix in self.name_words:
                continue
            fixed_term = term(fix) if fix else None
            if fix and fixed_term and fixed_term in self.vocab:
                fixed.append(fixed_term)
                corrected.append((word, fix))
            elif not t.isdigit():
                oov.setdefault(t, word)
        topical = list(dict.fromkeys(topical))
        generic = [t for t in dict.fromkeys(generic) if t not in topical]
        fixed = [t for t in dict.fromkeys(fixed) if t not in topical and t not in generic]
        terms = tuple(topical + generic + fixed)
        none = Retrieval(terms, tuple(corrected), (), 0.0, 0.0, None, tuple(oov))
        if self.retriever is None or not terms:
            return none
        scores = np.zeros(len(self.entries), dtype=np.float32)
        for group, weight in ((topical, 1.0), (generic, GENERIC_WEIGHT), (fixed, CORRECTED_WEIGHT)):
            if group:
                scores += weight * self.retriever.get_scores_from_ids(self.term_ids(group))
        count = min(max(k, 8), len(scores))
        top = np.argpartition(-scores, count - 1)[:count]
        top = top[np.argsort(-scores[top], kind="stable")]
        hits = tuple(Hit(self.entries[int(i)], float(scores[i])) for i in top if scores[i] > 0)
        if not hits:
            return none
        best_i = int(top[0])
        best_terms = self.terms[best_i]
        weights: dict[str, float] = {}
        for t in (*terms, *oov):
            weight = self.idf.get(t, self.oov_idf)
            if t in GENERIC_TERMS or t.isdigit():
                weight *= GENERIC_WEIGHT
            elif t in fixed:
                weight *= CORRECTED_WEIGHT
            elif t in oov:
                weight *= unknown_word_weight(oov[t])
            weights[t] = weight
        total = sum(weights.values())
        found = sum(w for t, w in weights.items() if t in best_terms)
        coverage = found / total if total else 0.0
        missing = tuple(t for t in weights if t not in best_terms)
        asked = [t for t in terms if t not in GENERIC_TERMS and t in best_terms]
        on_topic = any(t in self.question_terms[best_i] for t in asked)
        rival: Hit | None = None
        best_answer = self.answer_terms[best_i]
        for i in top[1:]:
            if scores[i] <= 0:
                break
            other = self.answer_terms[int(i)]
            union = len(best_answer | other)
            if union and len(best_answer & other) / union >= similar_answers:
                continue  # says the same thing: not a rival
            rival = Hit(self.entries[int(i)], float(scores[i]))
            break
        margin = 1.0 - (rival.score / hits[0].score) if rival else 1.0
        return Retrieval(
            terms=terms,
            corrected=tuple(corrected),
            hits=hits[:k],
            coverage=coverage,
            margin=margin,
            rival=rival,
            missing=missing,
            on_topic=on_topic,
            topic_words=len(asked),
        )


def build_index(knowledge: KnowledgeBase) -> Index:
    names = name_words(knowledge.profile.name if knowledge.profile else "")
    phrases = phrases_for(names)
    surface: Counter[str] = Counter()
    corpus: list[list[str]] = []
    terms: list[frozenset[str]] = []
    answer_terms: list[frozenset[str]] = []
    question_terms: list[frozenset[str]] = []
    for entry in knowledge.entries:
        heavy, light = _entry_text(entry)
        sides: list[list[str]] = []
        seen_surface: set[str] = set()
        for texts in (heavy, light):
            side: list[str] = []
            for part in texts:
                for word in surface_words(part, phrases):
                    seen_surface.add(word)
                    t = term(word)
                    if t is not None:
                        side.append(t)
            sides.append(side)
        surface.update(seen_surface)
        doc = sides[0] * TITLE_REPEAT + sides[1]
        corpus.append(doc or ["__empty__"])
        terms.append(frozenset(doc))
        question_terms.append(frozenset(sides[0]))
        answer_terms.append(
            frozenset(t for w in surface_words(entry.answer, phrases) if (t := term(w)) is not None)
        )
    for group in SYNONYM_GROUPS:
        for word in group:
            surface.setdefault(word, 0)
    doc_freq: Counter[str] = Counter()
    for doc_terms in terms:
        doc_freq.update(doc_terms)
    n = max(len(corpus), 1)
    idf = {t: math.log(1 + (n - df + 0.5) / (df + 0.5)) for t, df in doc_freq.items()}
    # An unknown word weighs like a word found in one entry: informative, but not more
    # than the rarest word the base has.
    oov_idf = math.log(1 + (n - 1 + 0.5) / 1.5)
    retriever: bm25s.BM25 | None = None
    vocab: dict[str, int] = {}
    if knowledge.entries:
        retriever = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
        retriever.index(corpus, show_progress=False)
        vocab = dict(retriever.vocab_dict)
    return Index(
        version=knowledge.version,
        entries=knowledge.entries,
        retriever=retriever,
        vocab=vocab,
        idf=idf,
        oov_idf=oov_idf,
        terms=terms,
        answer_terms=answer_terms,
        question_terms=question_terms,
        speller=Speller(surface),
        phrases=phrases,
        name_words=names,
    )
