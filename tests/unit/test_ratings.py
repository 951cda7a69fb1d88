"""The rating reader: forgiving about how a 1-5 rating is written, strict about texts
that only contain a number."""

from __future__ import annotations

import pytest

from bridge.campaigns.ratings import read_rating

RATINGS = [
    ("5", 5),
    ("5.", 5),
    (" 4 ", 4),
    ("3!", 3),
    ("5 stars", 5),
    ("1 star", 1),
    ("5/5", 5),
    ("4 / 5", 4),
    ("4 out of 5", 4),
    ("2 out of five", 2),
    ("⭐⭐⭐⭐", 4),
    ("★★★", 3),
    ("★★★☆☆", 3),
    ("⭐⭐⭐⭐⭐ amazing cake!", 5),
    ("4️⃣", 4),
    ("５", 5),
    ("five", 5),
    ("Five stars", 5),
    ("one", 1),
    ("I'd give it a 4", 4),
    ("I’d rate you guys a 5", 5),
    ("rating: 2", 2),
    ("2 stars, the order was late", 2),
    ("Great service, 5/5!", 5),
    ("1 - terrible", 1),
    ("5!! loved it", 5),
]

NOT_RATINGS = [
    "I have 2 questions about my bill",
    "0",
    "6",
    "123",
    "10/10",
    "4.5",
    "⭐⭐⭐⭐⭐⭐",
    "3/5/2026",
    "one more question: are you open Sunday?",
    "Can I order 2 cakes for Friday?",
    "4 or 5",
    "STOP",
    "",
    "Call me at 415 555 0101",
]


@pytest.mark.parametrize(("text", "rating"), RATINGS)
def test_a_rating_written_any_common_way_is_read(text: str, rating: int) -> None:
    assert read_rating(text) == rating


@pytest.mark.parametrize("text", NOT_RATINGS)
def test_a_text_that_only_contains_a_number_is_not_a_rating(text: str) -> None:
    assert read_rating(text) is None
