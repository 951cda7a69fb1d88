"""Text as the offline engine indexes it: normalised (case, contractions, money and
times marked), SMS shorthand and common phrasings rewritten, stopwords dropped, a light
stemmer and a customer-service thesaurus, down to one term per word."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence

from bridge.ai.shorthand import SHORTHAND, Rewrite, expand_shorthand, open_contractions

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
    uh hmm lol haha great good there thru through via before after until till during
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
    weekly daily nightly hourly looking appointment appointments appt appts
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

# Customer-service thesaurus: every word or phrase of a group also stands for the group
# (bridge/ai/offline/thesaurus.py), besides itself. Generic small-business vocabulary and
# abbreviations, not tied to one knowledge base; a business adds its own groups with
# `knowledge.synonyms`.
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
    ("pay", "payment", "payments", "credit", "debit", "cash", "paying", "card", "cards"),
    (
        "financing",
        "finance",
        "installment",
        "installments",
        "instalment",
        "instalments",
        "payment plan",
        "payment plans",
        "pay monthly",
        "monthly payments",
        "pay over time",
        "pay later",
        "klarna",
        "afterpay",
        "affirm",
    ),
    ("accept", "take", "takes", "accepted"),
    ("deliver", "delivery", "deliveries", "delivering", "delivered", "drop off"),
    ("ship", "shipping", "ships", "shipped", "mail", "shipment"),
    ("pickup", "collect", "collection", "takeout", "take out", "takeaway", "carryout", "to go"),
    ("gluten", "celiac", "coeliac"),
    ("allergy", "allergies", "allergic", "allergen", "allergens", "intolerance"),
    ("refund", "refunds", "return", "returns", "exchange", "reimburse"),
    ("cancel", "cancellation", "cancelling", "canceling", "cancelled", "canceled"),
    (
        "book",
        "booking",
        "reserve",
        "reservation",
        "reservations",
        "reserved",
        "appointment",
        "appointments",
        "slot",
    ),
    ("test", "try", "trial", "demo"),
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
    (
        "kid",
        "kids",
        "child",
        "children",
        "daughter",
        "son",
        "toddler",
        "baby",
        "infant",
        "teen",
        "teenager",
        "pediatric",
        "paediatric",
    ),
    ("record", "records", "chart", "charts", "file", "files", "paperwork"),
    ("transfer", "transferred", "transfers", "send", "sent", "send over", "forward", "forwarded"),
    ("dentist", "dentists", "dental", "dentistry"),
    ("doctor", "doctors", "physician", "medical"),
    ("spanish", "espanol", "castellano", "latino"),
    ("speak", "speaks", "spoken", "habla", "hablan", "hablas", "language", "languages"),
    ("stolen", "steal", "stole", "theft", "thief", "robbed", "burglary", "break in"),
    ("repair", "repairs", "fix", "fixing", "fixed", "mend", "service", "servicing"),
    ("used", "second hand", "secondhand", "preowned", "pre owned", "refurbished"),
    ("warranty", "guarantee", "guaranteed"),
    ("vegetarian", "veggie", "meatless"),
    ("rent", "rental", "rentals", "renting", "hire"),
    ("bike", "bikes", "bicycle", "bicycles"),
    ("ebike", "ebikes", "e bike", "e bikes", "electric bike", "electric bikes", "pedelec"),
    ("puncture", "punctures", "flat", "flats", "flat tire", "flat tyre"),
    ("tip", "tips", "gratuity", "tipping"),
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
    (
        "class",
        "classes",
        "course",
        "courses",
        "workshop",
        "workshops",
        "lesson",
        "lessons",
        "learn",
        "teach",
    ),
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
# ask in many words. `{place}` is a generic word for the business or its name. Each comes
# with words one of which every match holds (`Rewrite.cues`); `None` for the name's words.
_PHRASES_RAW: tuple[tuple[str, str, tuple[str, ...] | None], ...] = (
    (r"\bwi ?-? ?fi\b", " wifi ", ("wi",)),
    (r"\be ?-? ?mail\b", " email ", ("mail",)),
    (
        r"\bgift ?-? ?(cards?|certificates?|vouchers?)\b|\bgiftcards?\b|\bvouchers?\b",
        " giftcard ",
        ("gift", "voucher"),
    ),
    (r"\bpick(ing|ed)? ?-? ?ups?\b|\bpick (it|them|my \w+|the \w+) up\b", " pickup ", ("pick",)),
    (r"\bplant ?-? ?based\b", " vegan ", ("plant",)),
    (r"\bmoney back\b", " refund ", ("money back",)),
    (
        r"\bhow (far|long) (in )?(ahead|advance|before)\b|\bhow much notice\b|\blead time\b",
        " notice ",
        ("how", "lead time"),
    ),
    (r"\bhow much\b", " price ", ("how much",)),
    (
        r"\bhow long (does|do|will|would|did) (it|that|this|they|the \w+|a \w+) (take|last)s?\b",
        " time ",
        ("how long",),
    ),
    (r"\b([1-9]|1[0-7]) ?-? ?(years?|yrs?|months?|mos?) ?-? ?olds?\b", " child ", ("old",)),
    (
        r"\b(what time|when) (do|does|are|will|is) (you|u|y'?all|the {place}) (open|close|closing|"
        r"opening)\b|\bhow (late|early) (are|is|do|does) (you|u|y'?all|the {place})\b",
        " hours ",
        ("what time", "when", "how"),
    ),
    (
        r"\bwhere( exactly| precisely)? (is|are) (you|u|y'?all|the {place}|your {place})"
        r"( located| at)?\b|"
        r"\bwhere (are )?(you|u) located\b|\bhow (do|can) i (get|find) (to )?(you|u|the {place}|"
        r"your {place}|there)\b|\bwhere can i find (you|u)\b|\bwhere are you\b",
        " location ",
        ("where", "how"),
    ),
    (
        r"\bwho (is|are) (this|you)\b|\bwho am i (texting|talking)\b|\bwhat {place} is this\b",
        " who ",
        ("who", "what"),
    ),
    (
        r"\b(phone|contact) (number|no)\b|\bnumber to call\b|\b(your|ur) (number|#)\b",
        " phone ",
        ("phone", "contact", "number", "#"),
    ),
    (r"\bsold out\b|\bsells? out\b|\bruns? out\b|\bran out\b", " soldout ", ("out",)),
    (r"\bthe day before\b|\byesterday'?s?\b|\bday ?-? ?old\b", " dayold ", ("day",)),
    (r"\b\d+ (percent )?off\b", " discount ", ("off",)),
    (r"\bhappy hours?\b", " happyhour ", ("happy",)),
    (r"\bjob openings?\b|\bopenings? for\b|\bopen positions?\b", " job ", ("open",)),
    (r"\b(the|your|this|that|ur|yer) {place}\b", " ", None),  # the business itself says nothing
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
# (Cued by ":", "am" and "pm", not by digits: `\d` is any script's decimal digit.)
_TIME = Rewrite(
    re.compile(r"\b\d{1,2}:\d{2}\b|\b\d{1,2} ?(?:am|pm)\b"), " time ", (":", "am", "pm")
)
_MONEY = Rewrite(re.compile(r"\$(?=\s?\d)"), " price ", ("$",))


def fold_accents(text: str) -> str:
    """ "español" -> "espanol", "café" -> "cafe": customers type accents or not."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize(text: str) -> str:
    """Lowercase ASCII-ish text with contractions opened and money/time marked."""
    if not text.isascii():  # ASCII is its own normal form, with no accents to fold
        text = fold_accents(unicodedata.normalize("NFKC", text))
        text = text.translate({0x2019: "'", 0x2018: "'", 0x201C: '"', 0x201D: '"', 0x2013: "-"})
    text = open_contractions(text.lower())
    text = _TIME.apply(_MONEY.apply(text))
    return text.replace("&", " and ").replace("w/o", " without ").replace("w/", " with ")


_BRITISH_OUR = re.compile(r"our(?=(s|ed|ing|ite|ites|able|er|ers|ful)?$)")


@functools.lru_cache(maxsize=100_000)  # a word stems alike every time: once per process
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


GENERIC_TERMS = frozenset(stem(w) for w in GENERAL_WORDS if w not in STOPWORDS)
KNOWN_WORDS = frozenset(
    GENERAL_WORDS
    | {w for group in SYNONYM_GROUPS for member in group for w in member.split()}
    | set(SHORTHAND)
    | {w for v in SHORTHAND.values() for w in v.split()}
    | STOPWORDS
)


def _phrases(place_words: Iterable[str]) -> list[Rewrite]:
    places = sorted(set(place_words))
    place = "(?:" + "|".join(re.escape(w) for w in places) + ")"
    return [
        Rewrite(re.compile(p.replace("{place}", place)), r, tuple(places) if c is None else c)
        for p, r, c in _PHRASES_RAW
    ]


_DEFAULT_PHRASES = _phrases(_PLACE_WORDS)


def surface_words(text: str, phrases: Sequence[Rewrite]) -> list[str]:
    """Words of a text after normalisation, shorthand and phrase rewriting."""
    words = expand_shorthand(_TOKEN.findall(normalize(text)))
    joined = " ".join(words)
    for phrase in phrases:
        joined = phrase.apply(joined)
    return joined.split()


def term(word: str) -> str | None:
    """The indexed term of a surface word, or None for a stopword."""
    if word in STOPWORDS:
        return None
    return stem(word)


def name_words(name: str) -> frozenset[str]:
    """The words of the business's name: they say nothing about what a question asks."""
    return frozenset(
        w for w in _TOKEN.findall(normalize(name)) if w not in STOPWORDS and len(w) > 1
    )


def phrases_for(name_words: frozenset[str]) -> list[Rewrite]:
    """The phrase rewrites, with the business's own name words standing for `{place}`."""
    return _phrases((*_PLACE_WORDS, *name_words)) if name_words else _DEFAULT_PHRASES
