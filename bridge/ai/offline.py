"""The embedded drafting engine: BM25 retrieval over the knowledge base plus rules.

Per draft: the customer's latest texts are normalised (lowercase, SMS shorthand, common
phrasings, a light stemmer, a small thesaurus of customer-service words), misspelt words
are corrected against the knowledge base's own vocabulary, and `bm25s` scores every entry.
The best entry is proposed only when it clearly matches:

- coverage: the share of the question's information (IDF-weighted words) that the entry
  contains. A word the base does not know weighs by its rarity in general English
  (pyspellchecker's frequency list): "kombucha" or "croissants" weigh like a rare word, so
  a question about something the base never mentions has low coverage and is handed off,
  while "buy" or "online" barely count. Everyday words (GENERAL_WORDS: "bring", "tomorrow",
  "option") count little either way;
- margin: how far the best entry scores above the best *different* answer (entries whose
  answers say the same thing do not compete).

Both are folded into `confidence`. Rules on the raw text find the intent and urgency and
hand off what a person must handle whatever the knowledge base says: opt-out requests,
complaints and refunds, urgent or safety issues, order look-ups, appointment changes,
requests for a person, and texts that try to instruct the assistant.

Cost: the index is built once per knowledge-base version (`prepare`, in a thread from
`draft`); a draft then takes well under a millisecond for 500 entries (see
bench/ai_eval.py), so `draft` runs it inline; `draft_sync` is the same without a loop.
"""

from __future__ import annotations

import asyncio
import functools
import math
import re
import threading
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import bm25s
import numpy as np

from bridge.ai.drafter import Draft, Turn, cap_reply
from bridge.ai.knowledge import Entry, KnowledgeBase
from bridge.ai.tools import ToolFailed, Tools
from bridge.models import Intent, Urgency

# --- text normalisation -------------------------------------------------------------------

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

_CONTRACTIONS = [
    (re.compile(r"\b(can)'?t\b"), r"\1 not"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"\b(what|where|when|who|how|that|there|it|here)'s\b"), r"\1 is"),
    (re.compile(r"'s\b"), ""),
    (re.compile(r"s'(?=\s|$)"), "s"),
]

STOPWORDS = frozenset(
    """
    a an the and or but if then so of to in on at by for with from about as into than too
    very just also only even still already yet again i me my mine myself we us our ours
    ourselves you your yours yourself he him his she her they them their it its this that
    these those there here am is are was were be been being do does did doing done have has
    had having will would shall should can could may might must what which whom whose when
    where why how hi hey hello hiya yo dear thanks thank please ok yes yeah yep no nope sure
    guys folks team everyone anyone someone somebody anybody want wanted wanting wondering
    wonder wondered know let tell ask asking question questions quick like get got getting
    go going need needs needed thing things stuff something anything everything nothing
    really actually maybe possibly probably kindly any some all each every much many more
    most other another such own same not exactly currently usually just right now well oh um
    uh hmm lol haha great good there
    """.split()
)
# Common English words that rarely name what a question is about: request verbs ("bring",
# "put"), time words ("tomorrow", "june"), people, occasions and meta words ("option",
# "policy"). When the best entry lacks one, it counts GENERIC_WEIGHT of a topic word
# against the match, and it scores at GENERIC_WEIGHT; an unknown topic word ("pizza")
# counts in full. General English, not taken from any knowledge base or question set.
GENERAL_WORDS = frozenset(
    """
    bring brought buy bought choose come came coming cook cooking do eat eaten ate
    feel find found finish give gave go went help hope know leave left let live look love
    mean meet plan put read run say said see seem send sent set show start started stay
    take took talk think thought try turn understand use used walk want watch work worry
    sell sold selling offer offering carry stock provide include includes require required
    allow allowed accept accepted happen arrange prepare manage wonder fresh
    make made making wear visit stop grab pop drop able new old good great nice best
    better big small little large long short high low early late next last first second
    same different whole full real sure available possible happy certain quick fast slow
    usual regular normal fine okay special somewhere anywhere everywhere nearby near around
    inside outside soon later ago always never often sometimes today tonight tomorrow
    yesterday now back away up down out over else together also maybe time times day days
    week weeks month months year years morning mornings afternoon afternoons evening
    evenings night nights noon midnight minute minutes weekend weekends weekday weekdays
    monday tuesday wednesday thursday
    friday saturday sunday january february march april may june july august september
    october november december people person family friend friends kid kids child children
    son sons daughter daughters husband wife mom dad mother father baby guest guests
    customer customers boss coworker coworkers colleague colleagues group birthday
    anniversary celebration occasion car cars home house thing things stuff way ways kind
    kinds type types sort lot lots bit part question questions answer information info
    detail details option options choice choices policy policies rule rules idea reason
    example amount list note help chance anything something everything one two three
    add added severe serious breakfast lunch dinner brunch meal snack dozen couple
    few several pair half
    """.split()
)
GENERIC_WEIGHT = 0.3

# Customer-service thesaurus: every word of a group is indexed and searched as the group's
# first word. Generic small-business vocabulary, not tied to one knowledge base.
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    (
        "price",
        "prices",
        "cost",
        "costs",
        "charge",
        "fee",
        "fees",
        "pricing",
        "expensive",
        "cheap",
        "cheaper",
        "rate",
        "rates",
        "dollars",
        "dollar",
    ),
    ("hours", "hour", "open", "opening", "opens", "close", "closing", "closes", "closed"),
    ("location", "address", "located", "directions", "locations"),
    ("pay", "payment", "payments", "credit", "debit", "cash", "paying"),
    ("deliver", "delivery", "deliveries", "delivering", "delivered"),
    ("ship", "shipping", "ships", "shipped", "mail", "shipment"),
    ("pickup", "collect", "collection"),
    ("gluten", "celiac", "coeliac"),
    ("allergy", "allergies", "allergic", "allergen", "allergens", "intolerance"),
    ("refund", "refunds", "return", "returns", "exchange", "reimburse"),
    ("cancel", "cancellation", "cancelling", "canceling", "cancelled", "canceled"),
    ("book", "booking", "reserve", "reservation", "reservations", "reserved"),
    ("appointment", "appointments", "consultation"),
    ("wifi", "internet", "wireless"),
    ("phone", "telephone", "call", "cell"),
    ("email", "emails"),
    (
        "job",
        "jobs",
        "hiring",
        "hire",
        "employment",
        "career",
        "careers",
        "vacancy",
        "apply",
        "application",
        "resume",
        "interview",
    ),
    ("kid", "kids", "child", "children"),
    ("dog", "dogs", "pet", "pets", "puppy"),
    (
        "accessible",
        "accessibility",
        "wheelchair",
        "disabled",
        "disability",
        "stroller",
        "ramp",
        "step",
    ),
    ("discount", "discounts", "deal", "deals", "coupon", "coupons", "promo"),
    ("loyalty", "rewards", "reward", "points", "stamp", "punch"),
    ("class", "classes", "course", "courses", "workshop", "workshops", "lesson", "lessons"),
    (
        "donate",
        "donation",
        "donations",
        "charity",
        "charities",
        "sponsor",
        "sponsorship",
        "fundraiser",
        "raffle",
    ),
    ("seat", "seats", "seating", "sit", "sitting"),
    ("restroom", "bathroom", "toilet", "washroom", "restrooms", "bathrooms"),
    ("coffee", "espresso", "latte", "cappuccino", "americano", "mocha", "coffees"),
    ("bread", "loaf", "loaves", "breads"),
    ("wedding", "weddings", "marry", "married", "marriage", "bride"),
    ("serve", "serves", "feed", "feeds", "portion", "portions", "servings"),
    ("photo", "photos", "picture", "pictures", "image", "images", "print", "prints"),
    ("write", "writing", "inscription", "written"),
    ("decoration", "decorations", "decorate", "decorating", "decorated"),
    ("expire", "expires", "expiry", "expiration", "expired"),
    ("keep", "hold", "holding", "kept"),
    ("distance", "far", "radius", "km", "miles", "mile", "kilometers", "kilometres", "area"),
    ("notice", "ahead", "advance", "beforehand"),
    ("ingredient", "ingredients", "recipe"),
    ("patio", "outdoor", "outdoors", "terrace", "garden"),
    ("website", "online", "web", "site"),
    (
        "nut",
        "nuts",
        "peanut",
        "peanuts",
        "walnut",
        "walnuts",
        "hazelnut",
        "hazelnuts",
        "pecan",
        "pecans",
        "cashew",
        "cashews",
        "pistachio",
        "pistachios",
    ),
    ("vegan", "plant"),
)

# Phrases rewritten before splitting into words (after shorthand), for things customers
# ask in many words. `{place}` is a generic word for the business or its name.
_PHRASES_RAW: tuple[tuple[str, str], ...] = (
    (r"\bwi ?-? ?fi\b", " wifi "),
    (r"\be ?-? ?mail\b", " email "),
    (r"\bgift ?-? ?(cards?|certificates?|vouchers?)\b|\bgiftcards?\b|\bvouchers?\b", " giftcard "),
    (r"\bpick(ing|ed)? ?-? ?ups?\b|\bpick (it|them|my \w+|the \w+) up\b", " pickup "),
    (r"\bdrop ?-? ?off\b", " deliver "),
    (r"\bplant ?-? ?based\b", " vegan "),
    (r"\bmoney back\b", " refund "),
    (
        r"\bhow (far|long) (in )?(ahead|advance|before)\b|\bhow much notice\b|\blead time\b",
        " notice ",
    ),
    (r"\bhow much\b", " price "),
    (
        r"\b(what time|when) (do|does|are|will|is) (you|u|y'?all|the {place}) (open|close|closing|"
        r"opening)\b|\bhow (late|early) (are|is|do|does) (you|u|y'?all|the {place})\b",
        " hours ",
    ),
    (
        r"\bwhere( exactly| precisely)? (is|are) (you|u|y'?all|the {place}|your {place})"
        r"( located| at)?\b|"
        r"\bwhere (are )?(you|u) located\b|\bhow (do|can) i (get|find) (to )?(you|u|the {place}|"
        r"your {place}|there)\b|\bwhere can i find (you|u)\b|\bwhere are you\b",
        " location ",
    ),
    (
        r"\bwho (is|are) (this|you)\b|\bwho am i (texting|talking)\b|\bwhat {place} is this\b",
        " who ",
    ),
    (r"\b(phone|contact) (number|no)\b|\bnumber to call\b", " phone "),
    (r"\bsold out\b|\bsells? out\b|\bruns? out\b|\bran out\b", " soldout "),
    (r"\bthe day before\b|\byesterday'?s?\b|\bday ?-? ?old\b", " dayold "),
    (r"\b\d+ (percent )?off\b", " discount "),
    (r"\bhappy hours?\b", " happyhour "),
    (r"\bjob openings?\b|\bopenings? for\b|\bopen positions?\b", " job "),
    (r"\b(the|your|this|that|ur|yer) {place}\b", " "),  # the business itself says nothing
)
_PLACE_WORDS = (
    "bakery",
    "shop",
    "store",
    "place",
    "restaurant",
    "cafe",
    "salon",
    "office",
    "business",
    "studio",
    "clinic",
    "spot",
)

_TOKEN = re.compile(r"[a-z0-9]+")
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b|\b\d{1,2} ?(?:am|pm)\b")
_MONEY = re.compile(r"\$(?=\s?\d)")
_ORDER_NUMBER = re.compile(
    r"(?:#\s?|\border\s*(?:number|no\.?|num|n[or]\.?)?\s*#?\s*)([a-z]{0,3}-?\d{3,})", re.I
)


def normalize(text: str) -> str:
    """Lowercase ASCII-ish text with contractions opened and money/time marked."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.translate({0x2019: "'", 0x2018: "'", 0x201C: '"', 0x201D: '"', 0x2013: "-"})
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    text = _MONEY.sub(" price ", text)
    text = _TIME.sub(" time ", text)
    return text.replace("&", " and ").replace("w/o", " without ").replace("w/", " with ")


def expand_shorthand(words: Iterable[str]) -> list[str]:
    out: list[str] = []
    for word in words:
        out.extend(SHORTHAND.get(word, word).split())
    return out


_BRITISH_OUR = re.compile(r"our(?=(s|ed|ing|ite|ites|able|er|ers|ful)?$)")


def stem(word: str) -> str:
    """A light English stemmer: plurals, -ing, -ed, final -e and -y, doubled consonants.

    Deliberately mild: it must map the forms customers type ("cakes", "baking", "closed")
    onto the forms in a knowledge base without merging unrelated words."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if len(word) > 5:
        word = _BRITISH_OUR.sub("or", word)  # flavour -> flavor, colours -> colors
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses") or word.endswith(("ches", "shes", "xes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    stripped = None
    if word.endswith("ing") and len(word) >= 6:
        stripped = word[:-3]
    elif word.endswith("ed") and len(word) >= 5 and not word.endswith("eed"):
        stripped = word[:-2]
    if stripped is not None and any(v in stripped for v in "aeiouy"):
        word = stripped
        if len(word) >= 3 and word[-1] == word[-2] and word[-1] not in "aeioulsz":
            word = word[:-1]
    if len(word) >= 4 and word.endswith("e") and word[-2] not in "aeiou":
        word = word[:-1]
    elif len(word) >= 5 and word.endswith("y") and word[-2] not in "aeiou":
        word = word[:-1] + "i"
    return word


SYNONYMS: dict[str, str] = {}
for _group in SYNONYM_GROUPS:
    for _word in _group:
        SYNONYMS.setdefault(stem(_word), stem(_group[0]))
GENERIC_TERMS = frozenset(
    t for w in GENERAL_WORDS if (t := SYNONYMS.get(stem(w), stem(w))) and w not in STOPWORDS
)
_KNOWN_WORDS = frozenset(
    GENERAL_WORDS
    | {w for group in SYNONYM_GROUPS for w in group}
    | set(SHORTHAND)
    | {w for v in SHORTHAND.values() for w in v.split()}
    | STOPWORDS
)


def _phrases(place_words: Iterable[str]) -> list[tuple[re.Pattern[str], str]]:
    place = "(?:" + "|".join(re.escape(w) for w in sorted(set(place_words))) + ")"
    return [(re.compile(p.replace("{place}", place)), r) for p, r in _PHRASES_RAW]


_DEFAULT_PHRASES = _phrases(_PLACE_WORDS)


def surface_words(text: str, phrases: Sequence[tuple[re.Pattern[str], str]]) -> list[str]:
    """Words of a text after normalisation, shorthand and phrase rewriting."""
    words = expand_shorthand(_TOKEN.findall(normalize(text)))
    joined = " ".join(words)
    for pattern, replacement in phrases:
        joined = pattern.sub(replacement, joined)
    return joined.split()


def term(word: str) -> str | None:
    """The indexed term of a surface word, or None for a stopword."""
    if word in STOPWORDS:
        return None
    stemmed = stem(word)
    return SYNONYMS.get(stemmed, stemmed)


# --- typo tolerance ---------------------------------------------------------------------
# Misspellings are corrected word by word against the knowledge base's own vocabulary
# (plus the thesaurus), using a symmetric-delete index and a Damerau-Levenshtein check:
# distance 1 for words of 4-7 letters, 2 from 8 letters. Only words the base does not know
# are touched, so exact matches and BM25's word-level statistics stay as they are.
# Character n-grams would also tolerate typos, but they give every entry sharing a few
# letters with the question a small score: the scores get flatter, the gap between the
# best and the second-best entry shrinks, and that gap is what tells a clear answer from
# a question the base cannot answer. Corrected words count at CORRECTED_WEIGHT.

CORRECTED_WEIGHT = 0.8
ANSWER_ONLY_FACTOR = 0.75


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
    process; empty if the package is missing), for words seen ENGLISH_MIN_COUNT times."""
    try:
        from spellchecker import SpellChecker
    except ImportError:  # pragma: no cover - a declared dependency
        return {}
    counts: dict[str, int] = SpellChecker(language="en", distance=1).word_frequency.dictionary
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


class Speller:
    def __init__(self, vocabulary: Counter[str]) -> None:
        self.counts = vocabulary
        self.english = english_words()
        self._index: dict[str, list[str]] = {}
        for word in vocabulary:
            if len(word) < 3 or not word.isalpha():
                continue
            for variant in _deletes(word, 2 if len(word) >= 7 else 1):
                self._index.setdefault(variant, []).append(word)

    def correct(self, word: str) -> str | None:
        if len(word) < 4 or not word.isalpha() or word in self.counts or word in _KNOWN_WORDS:
            return None
        real = self.english.get(word, 0)
        limit = 1 if real else 2 if len(word) >= 8 else 1
        candidates: set[str] = set()
        for variant in _deletes(word, limit):
            candidates.update(self._index.get(variant, ()))
        best: tuple[int, int, int, str] | None = None
        for candidate in candidates:
            distance = damerau_levenshtein(word, candidate)
            if distance > limit or candidate in STOPWORDS:
                continue
            if real and self.english.get(candidate, 0) < REAL_WORD_RATIO * real:
                continue
            key = (distance, -self.counts[candidate], candidate[0] != word[0], candidate)
            if best is None or key < best:
                best = key
        return best[3] if best else None


# --- the index ----------------------------------------------------------------------------


TITLE_REPEAT = 2  # the question side (title, paraphrases) counts this many times


def _entry_text(entry: Entry) -> tuple[list[str], list[str]]:
    """(question side, answer side) texts of an entry."""
    heavy = [entry.title, *entry.alt, entry.keywords]
    light = [entry.topic, entry.answer]
    return heavy, light


@dataclass
class _Index:
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


def build_index(knowledge: KnowledgeBase) -> _Index:
    profile_name = knowledge.profile.name if knowledge.profile else ""
    name_words = frozenset(
        w for w in _TOKEN.findall(normalize(profile_name)) if w not in STOPWORDS and len(w) > 1
    )
    phrases = _phrases((*_PLACE_WORDS, *name_words)) if name_words else _DEFAULT_PHRASES
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
    return _Index(
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
        name_words=name_words,
    )


# --- rules: intent, urgency, hand-offs ----------------------------------------------------


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_OPT_OUT = _rx(
    r"^\s*(stop|stop all|end|quit|cancel|unsubscribe|optout|opt out)\s*[.!]*\s*$",
    r"\b(stop|quit|cease|no more|don'?t|do not|never)\b.{0,20}\b(text|texting|texts|message|"
    r"messages|messaging|contact|contacting|sms|spam|spamming)\b",
    r"\bunsubscrib",
    r"\b(take|remove|delete) (me|my number|my name)\b.{0,20}\b(list|off)\b",
    r"\btake me off\b",
    r"\bopt(-| )?out\b",
    r"\bleave me alone\b",
)
_INJECTION = _rx(
    r"\b(ignore|disregard|forget|override)\b.{0,30}\b(instruction|instructions|rules|prompt|"
    r"guidelines|above|previous)\b",
    r"\bsystem prompt\b",
    r"\byou are now\b",
    r"\bact as\b",
    r"\bpretend (to be|you)\b",
    r"\b(text|message|sms|email) (all|every|each) (of )?(your )?(customers|clients|users|"
    r"contacts|numbers)\b",
    r"\bjailbreak\b",
    r"\bdeveloper mode\b",
)
_HUMAN = _rx(
    r"\b(talk|speak|chat) (to|with) (a |an |the |someone|somebody|a real )?(real )?(person|"
    r"human|manager|owner|someone|somebody|staff|employee|agent|representative|rep)\b",
    r"\b(real|actual|live) (person|human)\b",
    r"\bcall me( back)?\b",
    r"\bis this a (bot|robot)",
    r"\bare you a (bot|robot|human|person|real)\b",
    r"\bget me (a|the) (manager|human|person)\b",
)
_SAFETY = _rx(
    r"\ballergic reaction\b",
    r"\banaphyla",
    r"\bepi ?pen\b",
    r"\bhospital\b",
    r"\bambulance\b",
    r"\b911\b",
    r"\bfood poisoning\b",
    r"\b(got|get|getting|feel|feeling|"
    r"was|were|is|are|been|made (me|us|him|her|them)) (so |very |really )?(sick|ill)\b",
    r"\bthrow(ing|n)? up\b",
    r"\bvomit",
    r"\bchok(e|ed|ing)\b",
    r"\b(mold|mould|moldy|mouldy|hair|glass|plastic|metal|bug|insect|worm)\b.{0,20}\b(in|on)\b"
    r".{0,10}\b(it|my|the|our)\b",
    r"\bcan'?t breathe\b",
)
_URGENT_WORDS = _rx(
    r"\burgent",
    r"\bas soon as possible\b",
    r"\bemergenc",
    r"\bimmediately\b",
    r"\bright away\b",
    r"\bhurry\b",
    r"\bquickly\b",
)
_TIME_PRESSURE = _rx(
    r"\btoday\b",
    r"\btonight\b",
    r"\bthis (morning|afternoon|evening)\b",
    r"\bin (an|1|one|a few|two|2|\d+) (hour|hours|minutes|mins)\b",
    r"\bby (noon|tonight)\b",
    r"\b(an|1|one|two|2|\d+) (hour|hours) ago\b",
    r"\bsupposed to (be|arrive|come)\b",
    r"\bstill (waiting|not here|hasn'?t)\b",
)
_COMPLAINT = _rx(
    r"\brefund",
    r"\bmoney back\b",
    r"\breimburse",
    r"\bchargeback\b",
    r"\bbroken\b",
    r"\bdamaged\b",
    r"\bsmashed\b",
    r"\bcrushed\b",
    r"\bmelted\b",
    r"\bwrong (order|cake|item|"
    r"name|size|flavou?r|date|thing|one)\b",
    r"\b(was|were|is|are|got|gave me) (the )?wrong\b",
    r"\bmissing\b",
    r"\bnever (came|arrived|showed|got|received)\b",
    r"\b(not|hasn'?t|haven'?t|didn'?t|did not|has not|have not) (arrived|come|came|been "
    r"delivered|delivered|received|ready)\b",
    r"\bstill (waiting|not here)\b",
    r"\b(is|was|running|arrived|came|showed up) late\b",
    r"\blate (delivery|order)\b",
    r"\bstale\b",
    r"\bburnt\b",
    r"\bburned\b",
    r"\bundercooked\b",
    r"\braw inside\b",
    r"\bovercharged\b",
    r"\bcharged (me )?twice\b",
    r"\bdouble charged\b",
    r"\brude\b",
    r"\bdisappoint",
    r"\bterrible\b",
    r"\bawful\b",
    r"\bhorrible\b",
    r"\bdisgusting\b",
    r"\bgross\b",
    r"\bworst\b",
    r"\bunacceptable\b",
    r"\bcomplain",
    r"\bnot happy\b",
    r"\bunhappy\b",
    r"\bupset\b",
    r"\bbad (experience|service)\b",
    r"\bmessed up\b",
    r"\bruined\b",
    r"\binedible\b",
    r"\bmoldy\b",
    r"\bmouldy\b",
    r"\bforgot\b",
    r"\bmistake\b",
    r"\bridiculous\b",
)
# "Do you give refunds?" asks about a policy the knowledge base may hold; "I want a
# refund" is a complaint.
_POLICY_QUESTION = _rx(
    r"^\W*(do|does|can|will) (you|u|y'?all) (give|offer|do|provide|accept|allow|take) "
    r"(refunds|returns|exchanges)\b[^.!]*$",
    r"^\W*(what|whats|what is|how) .{0,20}\b(refund|return|exchange|cancellation) polic",
)
_PRAISE = _rx(
    r"\b(thank you|thanks|thx|ty)\b.{0,40}\b(great|amazing|delicious|best|lovely|"
    r"wonderful|perfect|awesome)\b",
    r"\b(love|loved|loving) (it|your|the|this|them|that)\b",
    r"\b(amazing|awesome|delicious|fantastic|wonderful|perfect|yummy|excellent|incredible|"
    r"outstanding|lovely|tasty|the best|so good)\b",
)
_ACK = re.compile(
    r"^\W*(ok(ay)?|k+|thanks?( you)?( so much)?|thx|ty|great|perfect|cool|got it|sounds good|"
    r"will do|see you( soon| then)?|bye|(hi|hello|hey)( there)?|yes|no|yep|nope|sure|👍|🙏)"
    r"[\W]*(thanks?( you)?)?[\W]*$"
)
_APPOINTMENT = _rx(
    r"\bappointments?\b",
    r"\bappts?\b",
    r"\btastings?\b",
    r"\breserv",
    r"\bbook(ing)?\b",
    r"\breschedul",
    r"\bschedul",
    r"\bconsultation\b",
    r"\bavailab\w* (on|for|at)\b",
)
_CHANGE_APPOINTMENT = _rx(
    r"\b(move|change|reschedule|cancel|push|postpone|switch|bump)\b.{0,30}\b(appointment|appt|"
    r"tasting|reservation|booking|consultation|slot)\b",
    r"\b(appointment|appt|tasting|reservation|booking|consultation)\b.{0,30}\b(move|moved|"
    r"change|changed|reschedule|cancel|cancelled|canceled|push|postpone|instead)\b",
)
_BOOKING_WISH = _rx(
    r"\b(can|could|may) (i|we) (book|schedule|reserve|get)\b.{0,30}\b(appointment|appt|tasting|"
    r"reservation|consultation|slot)\b",
    r"\b(i'?d like|i want|i need|want|need|wanna) to (book|schedule|reserve|make)\b",
)
_ORDER = _rx(
    r"\border",
    r"#\s?\d{3,}",
    r"\bpick ?-?up\b",
    r"\bpick (it|them) up\b",
    r"\bdeliver",
    r"\bship",
    r"\btracking\b",
    r"\bcancel\b",
    r"\bmy (cake|bread|loaf|box|package|food)\b",
    r"\bdozen\b",
    r"\bcollect\b",
)
_ORDER_LOOKUP = _rx(
    r"\bwhere('?s| is) my\b",
    r"\bstatus of my\b",
    r"\b(is|are) my \w+ ready\b",
    r"\bhas my \w+ (shipped|been)\b",
    r"\bwhen will my\b",
    r"\btrack(ing)? my\b",
)
_ORDER_ACTION = _rx(
    r"^\s*(please )?cancel\b",
    r"\b(i want|i need|i'?d like|want|need|wanna) to (cancel|change)\b",
    r"\bcancel (it|my|our|the) (order|cake|delivery|pick ?up)\b.{0,20}\bplease\b",
    r"\bplease cancel\b",
)
_SALES = _rx(
    r"\bprice",
    r"\bcost",
    r"\bhow much\b",
    r"\bbuy\b",
    r"\bpurchase\b",
    r"\bsell",
    r"\bmenu\b",
    r"\bdo (you|u|y'?all) (have|make|bake|offer|carry|do|serve|stock)\b",
    r"\bany \w+ (options|available)\b",
    r"\boptions\b",
    r"\bcater",
    r"\bgift ?cards?\b",
    r"\bwholesale\b",
    r"\bdiscount",
    r"\bdeals?\b",
    r"\bspecials?\b",
    r"\bclass(es)?\b",
    r"\bloyalty\b",
    r"\brewards?\b",
    r"\bquote\b",
    r"\bbulk\b",
    r"\bin stock\b",
    r"\bcan (you|u) make\b",
    r"\bcustom\b",
    r"\bwedding\b",
    r"\bcakes?\b",
)
_QUESTION = re.compile(
    r"\?|^\s*(what|whats|what's|where|when|why|who|how|which|do|does|did|is|are|can|could|"
    r"would|will|should|may|any|r|u|wat|wen|whr)\b"
)
_LOW_URGENCY = _rx(r"\bno rush\b", r"\bno hurry\b", r"\bwhenever\b", r"\bat your convenience\b")


def find_order_number(text: str) -> str | None:
    """An order number such as `#4821` or `order 4821` in a customer's text."""
    match = _ORDER_NUMBER.search(text)
    return match.group(1).upper() if match else None


def _flat(text: str) -> str:
    return " ".join(expand_shorthand(re.findall(r"[\w#'$:]+|[?!]", text.lower())))


def order_status_request(text: str) -> str | None:
    """The order number of a text that asks where an order stands (not to change it)."""
    number = find_order_number(text)
    flat = _flat(text)
    if number is None or _ORDER_ACTION.search(flat) or "cancel" in flat or "change" in flat:
        return None
    return number


def instructs_assistant(text: str) -> bool:
    """Whether a text tries to give the assistant instructions ("ignore your rules")."""
    return bool(_INJECTION.search(_flat(text)))


def appointment_request(text: str) -> bool:
    """Whether a text asks to book, move or cancel an appointment (not just asks about them)."""
    flat = _flat(text)
    return bool(_CHANGE_APPOINTMENT.search(flat) or _BOOKING_WISH.search(flat))


@dataclass(frozen=True)
class Signals:
    """What the rules see in a customer's text."""

    intent: Intent
    urgency: Urgency
    handoff: str | None  # the reason a person must answer, whatever the knowledge base says
    acknowledgement: bool  # "thanks", "ok", "hi": nothing to answer
    question: bool


def read_signals(text: str) -> Signals:
    raw = unicodedata.normalize("NFKC", text)
    lowered = raw.lower().translate({0x2019: "'", 0x2018: "'"})
    for pattern, replacement in _CONTRACTIONS:
        lowered = pattern.sub(replacement, lowered)
    flat = " ".join(expand_shorthand(re.findall(r"[\w#'$:]+|[?!]", lowered)))
    letters = [c for c in raw if c.isalpha()]
    shouting = len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7
    exclaims = raw.count("!") >= 2 or "?!" in raw or "!?" in raw
    question = bool(_QUESTION.search(flat))
    complaint = bool(_COMPLAINT.search(flat)) and not _POLICY_QUESTION.search(flat)
    safety = bool(_SAFETY.search(flat))
    order_number = find_order_number(raw)
    time_pressure = bool(_TIME_PRESSURE.search(flat))
    ack = bool(_ACK.match(raw.strip().lower())) and not question

    intent: Intent
    if _OPT_OUT.search(flat):
        intent = "opt_out_request"
    elif complaint or (_PRAISE.search(flat) and not question):
        intent = "feedback"
    elif _APPOINTMENT.search(flat):
        intent = "appointment"
    elif _ORDER.search(flat) or order_number:
        intent = "order"
    elif _SALES.search(flat):
        intent = "sales"
    elif question:
        intent = "support"
    else:
        intent = "other"

    urgency: Urgency = "normal"
    if (
        safety
        or _URGENT_WORDS.search(flat)
        or (time_pressure and (complaint or intent in ("order", "appointment")) and not question)
        or (time_pressure and complaint)
        or (time_pressure and (order_number or _ORDER_LOOKUP.search(flat)))
        or ((exclaims or shouting) and complaint)
    ):
        urgency = "urgent"
    elif ack or _LOW_URGENCY.search(flat) or (intent == "feedback" and not complaint):
        urgency = "low"

    handoff: str | None = None
    if intent == "opt_out_request":
        handoff = "asks to stop getting texts: confirm the opt-out is recorded"
    elif _INJECTION.search(flat):
        handoff = "the text gives the assistant instructions; answer it yourself"
    elif safety:
        handoff = "possible health or safety issue"
    elif complaint:
        handoff = "complaint or refund request"
    elif _HUMAN.search(flat):
        handoff = "asks for a person"
    elif order_number and (
        _ORDER_LOOKUP.search(flat)
        or _ORDER_ACTION.search(flat)
        or not question
        or "cancel" in flat
        or "change" in flat
    ):
        handoff = f"about order #{order_number}: needs a look-up"
    elif _ORDER_LOOKUP.search(flat) and intent == "order":
        handoff = "asks about the status of an order"
    elif _ORDER_ACTION.search(flat):
        handoff = "asks to change or cancel an order"
    elif _CHANGE_APPOINTMENT.search(flat):
        handoff = "asks to move or cancel an appointment"
    elif urgency == "urgent" and (intent in ("order", "appointment", "other") or not question):
        handoff = "urgent request"
    elif intent == "feedback":
        handoff = "feedback: thank them personally"
    return Signals(
        intent=intent,
        urgency=urgency,
        handoff=handoff,
        acknowledgement=ack and handoff is None,
        question=question,
    )


# Hand-offs only because the rules cannot look things up: the tools may answer them.
TOOL_HANDOFFS = ("asks about the status of an order", "asks to move or cancel an appointment")
APPOINTMENT_ACK = "Thanks! We have your request and a team member will confirm it shortly."

# --- the engine ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OfflineSettings:
    min_coverage: float = 0.6  # share of the question's information the entry must hold
    min_margin: float = 0.15  # 1 - second / best; below it two different answers compete
    min_score: float = 0.0  # BM25 score floor (scores shrink with the base: keep it low)
    similar_answers: float = 0.6  # Jaccard of answer terms above which entries agree
    max_reply_chars: int = 320  # two GSM-7 segments
    context_turns: int = 3  # customer texts since our last reply that form the question
    cached_indexes: int = 4  # knowledge-base versions kept indexed (one per base + reloads)


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
class OfflineDrafter:
    """The offline engine (no API key needed). Thread-safe; one per process is enough."""

    settings: OfflineSettings = field(default_factory=OfflineSettings)
    tools: Tools = field(default_factory=Tools)
    _indexes: OrderedDict[str, _Index] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def name(self) -> str:
        return "offline"

    # -- index ---------------------------------------------------------------------------

    def prepare(self, knowledge: KnowledgeBase) -> None:
        """Build the index of this knowledge-base version. Blocking: about 25 ms per 100
        entries, plus ~0.2 s once per process to load the English word list."""
        self._index(knowledge)

    def is_prepared(self, knowledge: KnowledgeBase) -> bool:
        return knowledge.version in self._indexes

    def _index(self, knowledge: KnowledgeBase) -> _Index:
        with self._lock:
            index = self._indexes.get(knowledge.version)
            if index is not None:
                self._indexes.move_to_end(knowledge.version)
                return index
        index = build_index(knowledge)
        with self._lock:
            self._indexes[knowledge.version] = index
            while len(self._indexes) > max(1, self.settings.cached_indexes):
                self._indexes.popitem(last=False)
        return index

    # -- retrieval -----------------------------------------------------------------------

    def retrieve(self, question: str, knowledge: KnowledgeBase, k: int = 5) -> Retrieval:
        index = self._index(knowledge)
        topical: list[str] = []
        generic: list[str] = []
        fixed: list[str] = []
        corrected: list[tuple[str, str]] = []
        oov: dict[str, str] = {}  # term -> the word typed
        for word in surface_words(question, index.phrases):
            if word in index.name_words:
                continue
            t = term(word)
            if t is None:
                continue
            if t in index.vocab:
                (generic if t in GENERIC_TERMS or t.isdigit() else topical).append(t)
                continue
            fix = index.speller.correct(word)
            if fix in index.name_words:
                continue
            fixed_term = term(fix) if fix else None
            if fix and fixed_term and fixed_term in index.vocab:
                fixed.append(fixed_term)
                corrected.append((word, fix))
            elif not t.isdigit():
                oov.setdefault(t, word)
        topical = list(dict.fromkeys(topical))
        generic = [t for t in dict.fromkeys(generic) if t not in topical]
        fixed = [t for t in dict.fromkeys(fixed) if t not in topical and t not in generic]
        terms = tuple(topical + generic + fixed)
        none = Retrieval(terms, tuple(corrected), (), 0.0, 0.0, None, tuple(oov))
        if index.retriever is None or not terms:
            return none
        scores = np.zeros(len(index.entries), dtype=np.float32)
        for group, weight in ((topical, 1.0), (generic, GENERIC_WEIGHT), (fixed, CORRECTED_WEIGHT)):
            if group:
                scores += weight * index.retriever.get_scores_from_ids(index.term_ids(group))
        count = min(max(k, 8), len(scores))
        top = np.argpartition(-scores, count - 1)[:count]
        top = top[np.argsort(-scores[top], kind="stable")]
        hits = tuple(Hit(index.entries[int(i)], float(scores[i])) for i in top if scores[i] > 0)
        if not hits:
            return none
        best_i = int(top[0])
        best_terms = index.terms[best_i]
        weights: dict[str, float] = {}
        for t in (*terms, *oov):
            weight = index.idf.get(t, index.oov_idf)
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
        on_topic = any(t in index.question_terms[best_i] for t in asked)
        rival: Hit | None = None
        best_answer = index.answer_terms[best_i]
        for i in top[1:]:
            if scores[i] <= 0:
                break
            other = index.answer_terms[int(i)]
            union = len(best_answer | other)
            if union and len(best_answer & other) / union >= self.settings.similar_answers:
                continue  # says the same thing: not a rival
            rival = Hit(index.entries[int(i)], float(scores[i]))
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

    def confidence(self, retrieval: Retrieval) -> float:
        """Coverage and margin folded into 0-1; the answer threshold maps to 0.5."""
        s = self.settings
        best = retrieval.best
        if best is None or best.score <= s.min_score or retrieval.topic_words == 0:
            # nothing but everyday words ("see you tomorrow") matched
            return 0.0
        coverage = retrieval.coverage
        if not retrieval.on_topic and retrieval.topic_words <= 1:
            # one word that the entry only mentions in passing ("oven" in "comes out of
            # the oven at 7:00") is weak evidence that the entry is about the question
            coverage *= ANSWER_ONLY_FACTOR
        cov = (coverage - s.min_coverage) / (1 - s.min_coverage)
        mar = (retrieval.margin - s.min_margin) / (1 - s.min_margin)
        if cov < 0 or mar < 0:
            # below a threshold: 0-0.5 by how far
            return max(0.0, 0.5 + 0.5 * min(cov, mar))
        # above both: 0.5-1, rising fastest at first; the weaker signal counts more
        strength = min(cov, mar) * 0.6 + max(cov, mar) * 0.4
        return 0.5 + 0.5 * (1 - (1 - strength) ** 2)

    # -- drafting ------------------------------------------------------------------------

    async def draft(
        self,
        conversation_text: Sequence[Turn],
        *,
        knowledge: KnowledgeBase,
        now: datetime | None = None,
        subscriber: str = "",
    ) -> Draft:
        if not self.is_prepared(knowledge):
            await asyncio.to_thread(self.prepare, knowledge)
        draft = self.draft_sync(conversation_text, knowledge=knowledge, now=now)
        current, _ = _question_blocks(conversation_text, self.settings.context_turns)
        return await self._use_tools(draft, current, subscriber)

    async def _use_tools(self, draft: Draft, text: str, subscriber: str) -> Draft:
        """Order look-ups and appointment wishes, when the business enabled them: what
        the rules would otherwise hand off only for want of the tool. A hand-off for any
        other reason (safety, a complaint, a request for a person) stays one."""
        handoff = read_signals(text).handoff
        if handoff not in (None, *TOOL_HANDOFFS) and not handoff.startswith("about order #"):
            return draft
        if draft.intent == "order" and self.tools.orders is not None and subscriber:
            number = order_status_request(text)
            if number is not None:
                try:
                    status = await self.tools.orders.lookup(number, phone=subscriber)
                except ToolFailed as exc:
                    return Draft.handoff(
                        f"order #{number}: the look-up failed ({exc})",
                        intent="order",
                        urgency=draft.urgency,
                    )
                return Draft(
                    reply=status.summary(),
                    confidence=0.9 if status.found else 0.6,
                    intent="order",
                    urgency=draft.urgency,
                    escalate=not status.found,
                    reason=None if status.found else f"no order #{number} for this number",
                    sources=["tool:order_status"],
                )
        if draft.intent == "appointment" and self.tools.appointments and appointment_request(text):
            return Draft(
                reply=APPOINTMENT_ACK,
                confidence=0.9,
                intent="appointment",
                urgency=draft.urgency,
                sources=["tool:appointment_request"],
                appointment=cap_reply(text, 200)[0],
            )
        return draft

    def draft_sync(
        self,
        conversation_text: Sequence[Turn],
        *,
        knowledge: KnowledgeBase,
        now: datetime | None = None,
    ) -> Draft:
        del now  # the hours are in the knowledge base; the offline engine quotes them
        current, earlier = _question_blocks(conversation_text, self.settings.context_turns)
        if not current:
            return Draft(reason="no customer text to answer")
        signals = read_signals(current)
        if signals.handoff is not None:
            return Draft.handoff(signals.handoff, intent=signals.intent, urgency=signals.urgency)
        retrieval = self.retrieve(current, knowledge)
        confidence = self.confidence(retrieval)
        if confidence < 0.5 and earlier and _follow_up(current, retrieval):
            joined = self.retrieve(f"{earlier} {current}", knowledge)
            joined_confidence = self.confidence(joined) * 0.95
            if joined_confidence >= 0.5:
                retrieval, confidence = joined, joined_confidence
                if signals.intent in ("support", "other"):
                    signals = read_signals(f"{earlier} {current}")
        answers: list[tuple[Entry, float]] = []
        sentences = _sentences(current)
        questions = [s for s in sentences if read_signals(s).question]
        if len(questions) >= 2:
            # several questions: each must be answered, or a person answers them all;
            # unless they all point at the entry the whole text clearly matches
            answers = self._by_sentence(sentences, knowledge)
            best = retrieval.best
            if not answers and best is not None and confidence >= 0.5:
                tops = [self.retrieve(q, knowledge).best for q in questions]
                if all(top is not None and top.entry.id == best.entry.id for top in tops):
                    answers = [(best.entry, confidence)]
        elif retrieval.best is not None and confidence >= 0.5:
            answers = [(retrieval.best.entry, confidence)]
        else:
            answers = self._by_sentence(sentences, knowledge)
        if not answers and len(questions) >= 2:
            return Draft.handoff(
                f"{len(questions)} questions; not all have a clear answer in the knowledge base",
                intent=signals.intent,
                urgency=signals.urgency,
                confidence=round(min(confidence, 0.49), 3),
            )
        if not answers:
            if signals.acknowledgement:
                return Draft(
                    intent=signals.intent,
                    urgency=signals.urgency,
                    reason="nothing to answer (a greeting or thanks)",
                )
            return Draft.handoff(
                _why_not(retrieval, self.settings),
                intent=signals.intent,
                urgency=signals.urgency,
                confidence=round(confidence, 3),
            )
        text = " ".join(entry.answer for entry, _ in answers)
        limit = self.settings.max_reply_chars
        if len(answers) > 1 and len(text) > limit:
            return Draft.handoff(
                "several questions; the answers are too long for one text: "
                + ", ".join(repr(entry.title) for entry, _ in answers),
                intent=signals.intent,
                urgency=signals.urgency,
                confidence=round(min(c for _, c in answers), 3),
            )
        reply, cut = cap_reply(text, limit)
        confidence = min(c for _, c in answers) * (0.9 if cut else 1.0)
        return Draft(
            reply=reply,
            confidence=round(confidence, 3),
            intent=signals.intent,
            urgency=signals.urgency,
            escalate=False,
            reason=None,
            sources=[entry.id for entry, _ in answers],
        )

    def _by_sentence(
        self, sentences: Sequence[str], knowledge: KnowledgeBase
    ) -> list[tuple[Entry, float]]:
        """Answers when the text holds one or two questions among other sentences.

        Each sentence is matched on its own. A statement that matches nothing is context
        ("need to put it in my GPS"); a question that matches nothing clearly makes the
        whole text a hand-off, so no question is silently left unanswered."""
        if len(sentences) < 2:
            return []
        found: list[tuple[Entry, float]] = []
        for sentence in sentences:
            retrieval = self.retrieve(sentence, knowledge)
            confidence = self.confidence(retrieval) * SENTENCE_FACTOR
            best = retrieval.best
            if best is not None and confidence >= 0.5:
                if all(best.entry.id != entry.id for entry, _ in found):
                    found.append((best.entry, confidence))
                continue
            asks = read_signals(sentence).question
            topical = [t for t in (*retrieval.terms, *retrieval.missing) if t not in GENERIC_TERMS]
            if asks and topical:
                return []
        return found if len(found) <= 2 else []


SENTENCE_FACTOR = 0.95  # a sentence matched alone is a little less certain


def _sentences(text: str) -> list[str]:
    return [p.strip() for p in _SENTENCE_END.split(text) if p and p.strip()]


_SENTENCE_END = re.compile(r"(?<=[?!.])\s+|\n+|(?<=\?)(?=\w)")


def _question_blocks(conversation: Sequence[Turn], limit: int) -> tuple[str, str]:
    """(the customer's texts since our last reply, the customer's texts before that)."""
    current: list[str] = []
    earlier: list[str] = []
    i = len(conversation) - 1
    while i >= 0 and conversation[i][0] == "customer" and len(current) < limit:
        current.insert(0, conversation[i][1])
        i -= 1
    while i >= 0 and conversation[i][0] != "customer":
        i -= 1
    while i >= 0 and conversation[i][0] == "customer" and len(earlier) < limit:
        earlier.insert(0, conversation[i][1])
        i -= 1
    return " ".join(t.strip() for t in current)[-600:], " ".join(t.strip() for t in earlier)[-600:]


_FOLLOW_UP = re.compile(
    r"^\W*(and|also|what about|how about|and what about|ok|okay|so|but|then|what if|is it|"
    r"does it|do they|is that|how much|when|where)\b|\b(it|that|them|those|this|there)\b",
    re.I,
)


def _follow_up(text: str, retrieval: Retrieval) -> bool:
    """Short texts or texts that point back ("how much does it cost?") lean on the last
    question."""
    return len(retrieval.terms) <= 2 or bool(_FOLLOW_UP.search(text))


def _why_not(retrieval: Retrieval, settings: OfflineSettings) -> str:
    best = retrieval.best
    if best is None:
        return "the knowledge base has nothing on this"
    title = best.entry.title
    if retrieval.coverage < settings.min_coverage:
        missing = ", ".join(retrieval.missing[:3])
        return f"no clear answer in the knowledge base (closest: {title!r}; not covered: {missing})"
    if retrieval.rival is not None and retrieval.margin < settings.min_margin:
        return f"unsure between {title!r} and {retrieval.rival.entry.title!r} in the knowledge base"
    return f"no clear answer in the knowledge base (closest: {title!r})"
