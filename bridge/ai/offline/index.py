"""Retrieval over the knowledge base: one BM25 index per knowledge-base version, and
how a question matched it (coverage, margin, the rival answer)."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import bm25s
import numpy as np

from bridge.ai.knowledge import Entry, KnowledgeBase
from bridge.ai.offline.speller import CORRECTED_WEIGHT, Speller, unknown_word_weight
from bridge.ai.offline.text import (
    GENERIC_TERMS,
    GENERIC_WEIGHT,
    STOPWORDS,
    SYNONYM_GROUPS,
    name_words,
    phrases_for,
    stem,
    surface_words,
    term,
)
from bridge.ai.offline.thesaurus import Thesaurus, thesaurus_for
from bridge.ai.shorthand import Rewrite
from bridge.ai.signals import asks
from bridge.remembered import Remembered

# Searches remembered per index: a draft searches a text whole, by question and each
# question again, and the next text's draft reads the texts before it once more.
REMEMBERED_SEARCHES = 2048
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
    missing_words: tuple[str, ...] = ()  # the missing terms as typed, the weightiest first
    unknown_words: tuple[str, ...] = ()  # those the whole base lacks
    # words naming a topic (a thesaurus group: "job", "stolen") that the best entry lacks,
    # while its question side holds at most one of the question's topic words: a near miss
    off_topic: tuple[str, ...] = ()
    literal: bool = False  # the question is the best entry's question or a phrasing of it

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


SYNONYM_WEIGHT = 0.7  # a group label scores this much of the word it stands for
SYNONYM_CREDIT = 1.0  # a word the best entry has only through its group covers this much
EVERYDAY_SHARE = 0.5
# A word said only in a clause that tells rather than asks weighs this much: context ("my
# gears keep skipping, how much is a service?"), not the topic.
CONTEXT_WEIGHT = 0.15
_CLAUSE = re.compile(
    r"[,.;:!?\n]+|\s+(?=(?:can|could|do|does|is|are|will|would|how|what|when|where)\s+"
    r"(?:i|you|u|we|it|they|much|long|time|will|would|should|can|do|does|is|are)\b)",
    re.I,
)


@dataclass(frozen=True)
class _Unit:
    """One word of the question as retrieval weighs it."""

    term: str
    labels: tuple[str, ...]  # its thesaurus groups that the base has
    kind: str  # topical | generic | fixed | oov
    typed: str  # as the customer wrote it (for reasons)
    english: str  # the English word it weighs as when the base lacks it


_KIND_WEIGHT = {"topical": 1.0, "generic": GENERIC_WEIGHT, "fixed": CORRECTED_WEIGHT}


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
    phrasings: list[tuple[frozenset[str], ...]]  # per entry: every word of title and each alt
    speller: Speller
    phrases: list[Rewrite]
    name_words: frozenset[str]
    name_labels: frozenset[str]  # the groups of the name's words: "dentist" at "… Dental"
    thesaurus: Thesaurus
    surface: frozenset[str]  # every word of the base as written
    compounds: dict[str, tuple[str, str]]  # "ubereats" -> ("uber", "eats")
    _searched: Remembered[tuple[str, int, float], Retrieval] = field(
        default_factory=lambda: Remembered(REMEMBERED_SEARCHES), repr=False, compare=False
    )

    def term_ids(self, terms: Iterable[str]) -> list[int]:
        return [self.vocab[t] for t in terms if t in self.vocab]

    def _scores(self, terms: Iterable[str]) -> np.ndarray:
        assert self.retriever is not None
        ids = self.term_ids(terms)
        if not ids:
            return np.zeros(len(self.entries), dtype=np.float32)
        scores: np.ndarray = self.retriever.get_scores_from_ids(ids)
        return scores

    def _words(self, question: str) -> list[str]:
        """The question's words, compounds matched to the base's: "ubereats" -> "uber
        eats" when the base writes it apart, "door dash" -> "doordash" when together."""
        words = [w for w in surface_words(question, self.phrases) if w not in self.name_words]
        out: list[str] = []
        i = 0
        while i < len(words):
            word = words[i]
            if i + 1 < len(words):
                joined = word + words[i + 1]
                if joined in self.surface and not {word, words[i + 1]} <= self.surface:
                    out.append(joined)
                    i += 2
                    continue
            if word not in self.surface and word in self.compounds:
                out.extend(self.compounds[word])
            else:
                out.append(word)
            i += 1
        return out

    def _asked_words(self, question: str) -> frozenset[str] | None:
        """The words of the clauses that ask, when others only tell ("my gears keep
        skipping, how much is a service?"); None when every clause asks or none does."""
        clauses = [c for c in _CLAUSE.split(question) if c and c.strip()]
        if len(clauses) < 2:
            return None
        asking = [c for c in clauses if asks(c)]
        if not asking or len(asking) == len(clauses):
            return None
        return frozenset(w for c in asking for w in surface_words(c, self.phrases))

    @staticmethod
    def _context(units: list[_Unit], asked: frozenset[str] | None) -> set[_Unit]:
        """The words only a telling clause holds, when the asking clauses name a topic of
        their own ("the lock I bought doesn't fit, can I return it?": *return*); a word the
        base lacks is context there even when they don't."""
        if asked is None:
            return set()
        told = [u for u in units if u.typed not in asked and u.kind != "generic"]
        topic_asked = any(u.typed in asked and u.kind == "topical" for u in units)
        return {u for u in told if topic_asked or u.kind == "oov"}

    def _units(self, words: list[str]) -> tuple[list[_Unit], list[tuple[str, str]]]:
        labels = self.thesaurus.labels([stem(w) for w in words])
        units: dict[str, _Unit] = {}
        corrected: list[tuple[str, str]] = []
        for word, word_labels in zip(words, labels, strict=True):
            t = term(word)
            if t is None or t in units:
                continue
            if self.name_labels.intersection(word_labels):
                continue  # another word for the business's name says as little
            known = tuple(label for label in word_labels if label in self.vocab)
            if t in self.vocab or known:
                generic = t in GENERIC_TERMS or t.isdigit()
                kind = "generic" if generic else "topical"
                units[t] = _Unit(t, known, kind, word, word)
                continue
            fix = self.speller.correct(word)
            if fix is not None and fix not in self.name_words:
                fixed = term(fix)
                if fixed is None:  # "wats" meant "was"
                    continue
                fix_labels = tuple(
                    label for label in self.thesaurus.labels([stem(fix)])[0] if label in self.vocab
                )
                if fixed in self.vocab or fix_labels:
                    corrected.append((word, fix))
                    units.setdefault(fixed, _Unit(fixed, fix_labels, "fixed", word, fix))
                    continue
                if not t.isdigit():
                    units.setdefault(fixed, _Unit(fixed, (), "oov", word, fix))
                continue
            if fix is None and not t.isdigit():
                units[t] = _Unit(t, (), "oov", word, word)
        return list(units.values()), corrected

    def _weight(self, unit: _Unit) -> float:
        if unit.term in self.idf:
            weight = self.idf[unit.term]
        elif unit.labels:
            weight = max(self.idf.get(label, self.oov_idf) for label in unit.labels)
        else:
            weight = self.oov_idf
        if unit.kind == "oov":
            if unit.term in GENERIC_TERMS:
                return weight * GENERIC_WEIGHT
            return weight * unknown_word_weight(unit.english)
        return weight * _KIND_WEIGHT[unit.kind]

    def search(self, question: str, k: int, similar_answers: float) -> Retrieval:
        """How a question matches this base: its `k` best entries and how clearly. The
        index does not change, so neither does the answer: it is remembered."""
        return self._searched.recall(
            (question, k, similar_answers), lambda: self._search(question, k, similar_answers)
        )

    def _search(self, question: str, k: int, similar_answers: float) -> Retrieval:
        words = self._words(question)
        units, corrected = self._units(words)
        scored = [u for u in units if u.kind != "oov"]
        terms = tuple(u.term for u in scored if u.term in self.vocab)
        oov = [u for u in units if u.kind == "oov"]
        none = Retrieval(
            terms,
            tuple(corrected),
            (),
            0.0,
            0.0,
            None,
            tuple(u.term for u in oov),
            missing_words=tuple(u.typed for u in oov),
            unknown_words=tuple(u.typed for u in oov),
        )
        if self.retriever is None or not scored:
            return none
        scores = np.zeros(len(self.entries), dtype=np.float32)
        for unit in scored:
            # a word scores by itself or, a little less, through its groups: whichever is
            # more (both would count a word twice where an entry has it and its synonym)
            score = self._scores([unit.term])
            if unit.labels:
                label = self._scores(unit.labels)
                score = np.maximum(score, label) * SYNONYM_WEIGHT + score * (1 - SYNONYM_WEIGHT)
            scores += _KIND_WEIGHT[unit.kind] * score
        count = min(max(k, 8), len(scores))
        top = np.argpartition(-scores, count - 1)[:count]
        top = top[np.argsort(-scores[top], kind="stable")]
        said = _said(words)
        literal = next(
            (int(i) for i in top if scores[i] > 0 and _near(said, self.phrasings[i])), None
        )
        if literal is not None:  # the question of an entry, asked as written: it comes first
            top = np.array([literal, *(int(i) for i in top if int(i) != literal)])
        hits = tuple(Hit(self.entries[int(i)], float(scores[i])) for i in top if scores[i] > 0)
        if not hits:
            return none
        best_i = int(top[0])
        best_terms = self.terms[best_i]
        context = self._context(units, self._asked_words(question))
        asked_side = self.question_terms[best_i]
        total = found = everyday = 0.0
        missing: list[_Unit] = []
        covered: list[_Unit] = []
        for unit in units:
            weight = self._weight(unit)
            if unit.term in best_terms:
                found += weight
                covered.append(unit)
            elif any(label in best_terms for label in unit.labels):
                found += weight * SYNONYM_CREDIT
                covered.append(unit)
            else:
                missing.append(unit)
                if unit in context:  # context the entry lacks ("my gears keep skipping")
                    weight *= CONTEXT_WEIGHT
                if unit.term in GENERIC_TERMS:
                    everyday += weight
                    continue
            total += weight
        # everyday words the entry lacks ("what *happens* if I cancel *last minute*")
        # together weigh at most a share of what it matched
        total += min(everyday, EVERYDAY_SHARE * found) if found else everyday
        coverage = found / total if total else 0.0
        missing.sort(key=self._weight, reverse=True)
        topical = [u for u in covered if u.kind != "generic"]
        if not any(u.kind != "generic" for u in units):
            # only everyday words ("do you see kids?"): they are the topic when the best
            # entry's question holds them ("Do you treat children?")
            topical = [u for u in covered if _in(u, asked_side)]
        asked = [u for u in topical if _in(u, asked_side)]
        off_topic = tuple(
            u.typed
            for u in missing
            if u.kind == "oov"
            and u.term not in GENERIC_TERMS
            and self.thesaurus.labels([u.term])[0]
            and len(asked) < 2
        )
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
            missing=tuple(u.term for u in missing),
            on_topic=bool(asked),
            topic_words=len(topical),
            missing_words=tuple(u.typed for u in missing),
            unknown_words=tuple(u.typed for u in missing if u.kind == "oov"),
            off_topic=off_topic,
            literal=literal is not None,
        )


# Words a text may add to an entry's question and still ask it as written.
_FILLER = frozenset("hi hey hello please pls plz thanks thank ok okay so um quick question".split())
_STOP_STEMS = frozenset(stem(w) for w in STOPWORDS)


def _said(words: Iterable[str]) -> frozenset[str]:
    """Every word of a text, stopwords too ("where is my order" is not "how do I order")."""
    return frozenset(stem(w) for w in words if w not in _FILLER)


def _near(said: frozenset[str], phrasings: tuple[frozenset[str], ...]) -> bool:
    """The text is one of these phrasings but for at most one stopword."""
    return any(len(diff := said ^ phrasing) <= 1 and diff <= _STOP_STEMS for phrasing in phrasings)


def _in(unit: _Unit, terms: frozenset[str]) -> bool:
    return unit.term in terms or any(label in terms for label in unit.labels)


def build_index(knowledge: KnowledgeBase) -> Index:
    names = name_words(knowledge.profile.name if knowledge.profile else "")
    phrases = phrases_for(names)
    thesaurus = thesaurus_for(knowledge.synonyms)
    surface: Counter[str] = Counter()
    compounds: dict[str, tuple[str, str]] = {}
    corpus: list[list[str]] = []
    terms: list[frozenset[str]] = []
    answer_terms: list[frozenset[str]] = []
    question_terms: list[frozenset[str]] = []
    phrasings: list[tuple[frozenset[str], ...]] = []
    seen: dict[str, list[str]] = {}

    def words_of(text: str) -> list[str]:  # titles and answers are read more than once
        if text not in seen:
            seen[text] = surface_words(text, phrases)
        return seen[text]

    for entry in knowledge.entries:
        heavy, light = _entry_text(entry)
        sides: list[list[str]] = []
        seen_surface: set[str] = set()
        for texts in (heavy, light):
            side: list[str] = []
            for part in texts:
                words = words_of(part)
                seen_surface.update(words)
                for a, b in itertools.pairwise(words):
                    if a.isalpha() and b.isalpha():
                        compounds.setdefault(a + b, (a, b))
                labels = thesaurus.labels([stem(w) for w in words])
                for word, word_labels in zip(words, labels, strict=True):
                    t = term(word)
                    if t is not None:
                        side.append(t)
                    side.extend(word_labels)
            sides.append(side)
        surface.update(seen_surface)
        doc = sides[0] * TITLE_REPEAT + sides[1]
        corpus.append(doc or ["__empty__"])
        terms.append(frozenset(doc))
        question_terms.append(frozenset(sides[0]))
        answer_terms.append(frozenset(t for w in words_of(entry.answer) if (t := term(w))))
        phrasings.append(
            tuple(
                _said(w for w in words_of(p) if w not in names) for p in (entry.title, *entry.alt)
            )
        )
    for group in (*SYNONYM_GROUPS, *knowledge.synonyms):
        for member in group:
            for word in member.lower().split():
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
    known = frozenset(w for w, n in surface.items() if n)
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
        phrasings=phrasings,
        speller=Speller(surface),
        phrases=phrases,
        name_words=names,
        name_labels=frozenset(
            label for labels in thesaurus.labels([stem(w) for w in names]) for label in labels
        ),
        thesaurus=thesaurus,
        surface=known,
        compounds={c: pair for c, pair in compounds.items() if c not in known},
    )
