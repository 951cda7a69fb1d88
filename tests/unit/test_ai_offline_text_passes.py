"""The offline engine reads every text of a draft: a rewrite runs only on a text holding
one of its words (counted in regex passes, never timed), and gives what running every
rewrite gives."""

import re
import sys
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.ai.offline.text import normalize, phrases_for, surface_words
from bridge.ai.shorthand import CONTRACTIONS, expand_shorthand

SETS = Path(__file__).resolve().parents[2] / "bench" / "ai_sets"


@contextmanager
def c_calls() -> Iterator[list[Any]]:
    """The C functions called while inside: a regex pass is a call of a pattern's method."""
    called: list[Any] = []

    def profile(_frame: object, event: str, arg: Any) -> None:
        if event == "c_call":
            called.append(arg)

    sys.setprofile(profile)
    try:
        yield called
    finally:
        sys.setprofile(None)


def regex_passes(run: Callable[[], object]) -> list[str]:
    with c_calls() as called:
        run()
    return [
        f.__self__.pattern for f in called if isinstance(getattr(f, "__self__", None), re.Pattern)
    ]


def test_a_plain_text_is_searched_by_no_rewrite_it_holds_no_word_of() -> None:
    phrases = phrases_for(frozenset({"harbor"}))
    passes = regex_passes(lambda: surface_words("Do you have gluten free bread?", phrases))
    # Splitting into words only: no contraction, money, time or phrase rewrite.
    assert len(passes) == 1


def test_a_text_is_searched_only_by_the_rewrites_whose_words_it_holds() -> None:
    phrases = phrases_for(frozenset())
    passes = regex_passes(lambda: surface_words("I'm at the shop, how much is it?", phrases))
    # "'m" opens a contraction, whose "am" cues the time mark; "how" cues two phrases,
    # the second turning "how much" into "price", so the later ones about "how" find no
    # cue; "shop" cues the last.
    assert [p[:12] for p in passes] == [
        r"'m\b",
        r"\b\d{1,2}:\d",
        "[a-z0-9]+",
        r"\bhow (far|l",
        r"\bhow much\b",
        r"\b(the|your|",
    ]


def test_ascii_text_skips_unicode_normalisation() -> None:
    with c_calls() as called:
        normalize("Are you open on Saturday?")
    assert unicodedata.normalize not in called
    assert normalize("Café ’til 7pm") == "cafe 'til  time "


def _every_rewrite(text: str, phrases: Any) -> list[str]:
    """The words as running every rewrite on every text gives them."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = text.lower().translate({0x2019: "'", 0x2018: "'", 0x201C: '"', 0x201D: '"', 0x2013: "-"})
    for contraction in CONTRACTIONS:
        text = contraction.pattern.sub(contraction.replacement, text)
    text = re.sub(r"\$(?=\s?\d)", " price ", text)
    text = re.sub(r"\b\d{1,2}:\d{2}\b|\b\d{1,2} ?(?:am|pm)\b", " time ", text)
    text = text.replace("&", " and ").replace("w/o", " without ").replace("w/", " with ")
    joined = " ".join(expand_shorthand(re.findall(r"[a-z0-9]+", text)))
    for rewrite in phrases:
        joined = rewrite.pattern.sub(rewrite.replacement, joined)
    return joined.split()


def _questions() -> list[str]:
    found: list[str] = []
    for path in [SETS.parent / "ai_eval_questions.yml", *sorted(SETS.glob("*/questions.yml"))]:
        for item in yaml.safe_load(path.read_text()) or []:
            if isinstance(item, dict) and isinstance(item.get("q"), str):
                found.append(item["q"])
    return found


EDGES = [
    "Wi-Fi? e-mail? gift-cards, a voucher, picking it up, plant based",
    "money back? how far in advance, how much notice, lead time, how much",
    "how long does the cake take? my 5 year old, a 10-month-olds",
    "what time do you open? when does the bakery close? how late is the shop",
    "where exactly is your salon located? how do i get to you? where can i find u",
    "who is this? what shop is this? phone number, number to call, ur number",
    "sold out? sells out, ran out; the day before, yesterday's, day-old bread",
    "20 percent off, 10 off, happy hour, job openings, openings for, open positions",
    "can't won't cant wont isn't you're I'm we'll I've I'd what's Bob's guests' ok",
    "$5 at 7:30 or 8 pm w/ cream & w/o nuts – “quoted” crème brûlée",
    "open at ٧:٣٠ or ٨ pm? $٥",  # `\d` is any decimal digit, not only ASCII's
]


@pytest.mark.parametrize("names", [frozenset(), frozenset({"harbor", "bakery"})])
def test_rewrites_give_what_running_every_rewrite_gives(names: frozenset[str]) -> None:
    phrases = phrases_for(names)
    texts = EDGES + _questions()
    assert len(texts) > 100
    for text in texts:
        assert surface_words(text, phrases) == _every_rewrite(text, phrases), text
