"""Bounded memos keep their most recent entries when full, rather than starting over:
a memo cleared when full saws up and down, and the process keeps its peaks."""

from __future__ import annotations

from collections import Counter

import pytest

from bridge.ai.offline import speller as speller_module
from bridge.ai.offline.speller import Speller
from bridge.remembered import Recent, Remembered


def test_a_full_memo_drops_only_its_least_recently_used_entry() -> None:
    memo: Remembered[str, str] = Remembered(3)
    worked: list[str] = []

    def recall(key: str) -> str:
        return memo.recall(key, lambda: worked.append(key) or key.upper())

    assert [recall(k) for k in "abc"] == ["A", "B", "C"]
    recall("a")  # used again: now the most recent
    recall("d")  # full: "b", the least recently used, goes
    assert worked == ["a", "b", "c", "d"]
    for key in "acd":
        recall(key)
    assert worked == ["a", "b", "c", "d"]  # still remembered
    recall("b")
    assert worked == ["a", "b", "c", "d", "b"]


def test_a_memo_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Remembered(0)
    with pytest.raises(ValueError, match="at least one"):
        Recent(0)


def test_recent_keys_forget_the_oldest_first_and_stay_within_their_size() -> None:
    """What Slack's posts keep per post (landed here, answer in doubt): a set that grew
    by one key per lost answer for as long as the process lived."""
    recent: Recent[str] = Recent(3)
    for key in "abc":
        recent.add(key)
    recent.add("a")  # noted again: now the newest
    recent.add("d")  # full: "b", the oldest, goes
    assert [key in recent for key in "abcd"] == [True, False, True, True]
    recent.discard("c")
    recent.discard("z")  # not there: nothing happens
    assert (len(recent), "c" in recent) == (2, False)
    for n in range(1000):
        recent.add(f"k{n}")
    assert len(recent) == 3


def test_the_spellers_memo_keeps_recent_words_past_its_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    speller = Speller(Counter({"croissant": 3}))
    corrected: list[str] = []
    monkeypatch.setattr(speller, "_correct", lambda word: corrected.append(word))
    words = [f"w{n}" for n in range(speller_module.MEMO_SIZE + 1)]
    for word in words:
        speller.correct(word)
    speller.correct(words[-2])  # seen a moment ago
    assert corrected == words
