"""Synonym and abbreviation groups as the offline engine uses them: every member of a
group (a word, or a phrase such as "payment plan") also stands for the group, as a label
term `~<head>` added next to the member's own term. Adding instead of replacing keeps the
word itself: "can I pay cash" still says *cash*, so the entry naming cash outranks the one
about payment plans, while "financing" still finds "payment plans" through the label."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bridge.ai.offline.text import SYNONYM_GROUPS, stem

LABEL_MARK = "~"
_WORD = re.compile(r"[a-z0-9]+")


def member_stems(member: str) -> tuple[str, ...]:
    """The stems of a group member as texts are tokenised ("E-bike" -> ("e", "bik"))."""
    return tuple(stem(w) for w in _WORD.findall(member.lower()))


@dataclass(frozen=True)
class Thesaurus:
    words: dict[str, tuple[str, ...]]  # stem of a one-word member -> its groups' labels
    phrases: dict[str, tuple[tuple[tuple[str, ...], str], ...]]  # first stem -> (stems, label)

    def labels(self, stems: Sequence[str | None]) -> list[tuple[str, ...]]:
        """The labels of each position of a text given as stems (None: not a word that
        counts, but still part of a phrase: "pay *over* time")."""
        found: list[list[str]] = [list(self.words.get(s, ())) if s else [] for s in stems]
        for i, first in enumerate(stems):
            for tail, label in self.phrases.get(first or "", ()):
                end = i + len(tail)
                if tuple(stems[i:end]) == tail:
                    for j in range(i, end):
                        if label not in found[j]:
                            found[j].append(label)
        return [tuple(labels) for labels in found]

    @property
    def all_labels(self) -> frozenset[str]:
        return frozenset(
            [label for labels in self.words.values() for label in labels]
            + [label for group in self.phrases.values() for _, label in group]
        )


def build_thesaurus(groups: Iterable[Sequence[str]]) -> Thesaurus:
    words: dict[str, list[str]] = {}
    phrases: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for group in groups:
        members = [m for m in (member_stems(member) for member in group) if m]
        if len(members) < 2:
            continue
        label = LABEL_MARK + "_".join(members[0])
        for stems in members:
            if len(stems) == 1:
                words.setdefault(stems[0], [])
                if label not in words[stems[0]]:
                    words[stems[0]].append(label)
            else:
                phrases.setdefault(stems[0], []).append((stems, label))
    return Thesaurus(
        words={s: tuple(labels) for s, labels in words.items()},
        phrases={s: tuple(p) for s, p in phrases.items()},
    )


@functools.cache
def thesaurus_for(extra: tuple[tuple[str, ...], ...] = ()) -> Thesaurus:
    """The generic groups plus a business's own (`knowledge.synonyms`)."""
    return build_thesaurus((*SYNONYM_GROUPS, *extra))
