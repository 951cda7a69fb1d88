"""How customers write: SMS shorthand and English contractions. Opened before the
safety signals or the offline engine read a text, so both read it the same way."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# SMS shorthand and frequent misspellings of short words (which the edit-distance pass
# leaves alone: too many real words lie one edit away from a 2-3 letter token).
SHORTHAND: dict[str, str] = {
    "u": "you",
    "ya": "you",
    "yu": "you",
    "yuo": "you",
    "r": "are",
    "ur": "your",
    "yr": "your",
    "urs": "yours",
    "y": "why",
    "pls": "please",
    "plz": "please",
    "plse": "please",
    "thx": "thanks",
    "thnx": "thanks",
    "thanx": "thanks",
    "ty": "thank you",
    "hrs": "hours",
    "hr": "hour",
    "mins": "minutes",
    "min": "minute",
    "2moro": "tomorrow",
    "2morrow": "tomorrow",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tmw": "tomorrow",
    "tomoro": "tomorrow",
    "tomorow": "tomorrow",
    "2day": "today",
    "tdy": "today",
    "2nite": "tonight",
    "tonite": "tonight",
    "2": "to",
    "4": "for",
    "b4": "before",
    "wat": "what",
    "wut": "what",
    "wht": "what",
    "waht": "what",
    "wen": "when",
    "whn": "when",
    "wer": "where",
    "whr": "where",
    "hw": "how",
    "hwo": "how",
    "abt": "about",
    "bc": "because",
    "cuz": "because",
    "coz": "because",
    "b/c": "because",
    "w": "with",
    "wo": "without",
    "n": "and",
    "nd": "and",
    "adn": "and",
    "teh": "the",
    "da": "the",
    "im": "i am",
    "ive": "i have",
    "id": "i would",
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "cant": "can not",
    "wont": "will not",
    "isnt": "is not",
    "arent": "are not",
    "whats": "what is",
    "wheres": "where is",
    "hows": "how is",
    "thats": "that is",
    "theres": "there is",
    "youre": "you are",
    "k": "ok",
    "kk": "ok",
    "okay": "ok",
    "ppl": "people",
    "msg": "message",
    "txt": "text",
    "txting": "texting",
    "pic": "photo",
    "pics": "photos",
    "appt": "appointment",
    "appts": "appointments",
    "info": "information",
    "bday": "birthday",
    "b-day": "birthday",
    "xmas": "christmas",
    "wknd": "weekend",
    "wkend": "weekend",
    "wk": "week",
    "mon": "monday",
    "tue": "tuesday",
    "tues": "tuesday",
    "wed": "wednesday",
    "thu": "thursday",
    "thur": "thursday",
    "thurs": "thursday",
    "fri": "friday",
    "sat": "saturday",
    "sun": "sunday",
    "gf": "gluten free",
    "df": "dairy free",
    "asap": "as soon as possible",
    "nvm": "never mind",
    "idk": "i do not know",
    "btw": "by the way",
    "rn": "right now",
    "addy": "address",
    "loc": "location",
    "num": "number",
    "no.": "number",
    "acct": "account",
    "ord": "order",
    "del": "delivery",
    "dlvry": "delivery",
    "pkup": "pickup",
    "pu": "pickup",
    "cc": "credit card",
    "xtra": "extra",
    "bout": "about",
    "gonna": "going to",
    "wanna": "want to",
    "gotta": "got to",
}


@dataclass(frozen=True, slots=True)
class Rewrite:
    """A regex rewrite, and words one of which every match holds. A pattern that opens
    with `\\b` cannot skip ahead to a literal, so each search walks the whole text; a
    substring test first spares the search on a text holding none of the words."""

    pattern: re.Pattern[str]
    replacement: str
    cues: tuple[str, ...]

    def apply(self, text: str) -> str:
        for cue in self.cues:  # a loop, not any(): no generator per call
            if cue in text:
                return self.pattern.sub(self.replacement, text)
        return text


CONTRACTIONS = (
    Rewrite(re.compile(r"\b(can)'?t\b"), r"\1 not", ("can",)),
    Rewrite(re.compile(r"\bwon'?t\b"), "will not", ("won",)),
    Rewrite(re.compile(r"n't\b"), " not", ("n't",)),
    Rewrite(re.compile(r"'re\b"), " are", ("'re",)),
    Rewrite(re.compile(r"'m\b"), " am", ("'m",)),
    Rewrite(re.compile(r"'ll\b"), " will", ("'ll",)),
    Rewrite(re.compile(r"'ve\b"), " have", ("'ve",)),
    Rewrite(re.compile(r"'d\b"), " would", ("'d",)),
    Rewrite(re.compile(r"\b(what|where|when|who|how|that|there|it|here)'s\b"), r"\1 is", ("'s",)),
    Rewrite(re.compile(r"'s\b"), "", ("'s",)),
    Rewrite(re.compile(r"s'(?=\s|$)"), "s", ("s'",)),
)


def open_contractions(text: str) -> str:
    """ "can't" -> "can not", "what's" -> "what is": on lowercase text."""
    for contraction in CONTRACTIONS:
        text = contraction.apply(text)
    return text


def expand_shorthand(words: Iterable[str]) -> list[str]:
    out: list[str] = []
    for word in words:
        out.extend(SHORTHAND.get(word, word).split())
    return out
