"""Reading a poll answer: forgiving with the forms people use for a choice, strict with
anything longer, so a question about the poll still reaches the inbox."""

from __future__ import annotations

import pytest

from bridge.campaigns.models import Poll
from bridge.campaigns.poll_answers import read_poll_answer

FLAVOURS = Poll(options={"A": "Mango", "B": "Strawberry", "C": "Vanilla"})
TWO_WORDS = Poll(options={"A": "Salted caramel", "B": "Dark chocolate"})

ANSWERS: list[tuple[Poll, str, str | None]] = [
    (FLAVOURS, "a", "A"),
    (FLAVOURS, "A", "A"),
    (FLAVOURS, "A.", "A"),
    (FLAVOURS, " b ", "B"),
    (FLAVOURS, "B)", "B"),
    (FLAVOURS, "(c)", "C"),
    (FLAVOURS, "Mango", "A"),
    (FLAVOURS, "mango!", "A"),
    (FLAVOURS, "MANGO 🥭", "A"),
    (FLAVOURS, "option b", "B"),
    (FLAVOURS, "Option B please", "B"),
    (FLAVOURS, "I vote C", "C"),
    (FLAVOURS, "i pick vanilla", "C"),
    (FLAVOURS, "2", "B"),
    (FLAVOURS, "#3", "C"),
    (FLAVOURS, "2️⃣", "B"),
    (FLAVOURS, "1\u20e3", "A"),
    (FLAVOURS, "Ａ", "A"),  # a full-width letter
    (TWO_WORDS, "salted caramel", "A"),
    (TWO_WORDS, "Dark Chocolate!!", "B"),
    # not answers: questions, sentences, other options, nothing at all
    (FLAVOURS, "Mango is gross, what else do you have?", None),
    (FLAVOURS, "Mango is gross what else do you have", None),
    (FLAVOURS, "a question about my order", None),
    (FLAVOURS, "A?", None),
    (FLAVOURS, "D", None),
    (FLAVOURS, "4", None),
    (FLAVOURS, "0", None),
    (FLAVOURS, "a or b", None),
    (FLAVOURS, "", None),
    (FLAVOURS, "👍", None),
    (FLAVOURS, "thanks", None),
    (FLAVOURS, "A\nB", None),
    (TWO_WORDS, "caramel", None),
]


@pytest.mark.parametrize(("poll", "text", "choice"), ANSWERS)
def test_a_text_reads_as_the_option_it_names(poll: Poll, text: str, choice: str | None) -> None:
    assert read_poll_answer(poll, text) == choice


def test_a_long_text_is_never_an_answer() -> None:
    assert read_poll_answer(FLAVOURS, "a " + "very " * 40) is None


def test_letters_are_the_polls_own_keys_whatever_their_case() -> None:
    lower = Poll(options={"x": "Yes", "y": "No"})
    assert read_poll_answer(lower, "X") == "x"
    assert read_poll_answer(lower, "no") == "y"
    assert read_poll_answer(lower, "2") == "y"
