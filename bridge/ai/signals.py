"""What a customer's text says, whichever engine drafts the answer: intent, urgency,
and the hand-offs a person must handle whatever the knowledge base says (opt-out
requests, complaints and refunds, urgent or safety issues, order look-ups, appointment
changes, requests for a person, texts that try to instruct the assistant). The draft
desk reads them to guard every engine; the offline engine uses them as its rules."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from bridge.ai.shorthand import expand_shorthand, open_contractions
from bridge.models import Intent, Urgency

_ORDER_NUMBER = re.compile(
    r"(?:#\s?|\border\s*(?:number|no\.?|num|n[or]\.?)?\s*#?\s*)([a-z]{0,3}-?\d{3,})", re.I
)


def any_of(*patterns: str) -> re.Pattern[str]:
    """One pattern matching any of these."""
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_OPT_OUT = any_of(
    r"^\s*(stop|stop all|end|quit|cancel|unsubscribe|optout|opt out)\s*[.!]*\s*$",
    r"\b(stop|quit|cease|no more|don'?t|do not|never)\b.{0,20}\b(text|texting|texts|message|"
    r"messages|messaging|contact|contacting|sms|spam|spamming)\b",
    r"\bunsubscrib",
    r"\b(take|remove|delete) (me|my number|my name)\b.{0,20}\b(list|off)\b",
    r"\btake me off\b",
    r"\bopt(-| )?out\b",
    r"\bleave me alone\b",
)
_INJECTION = any_of(
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
_HUMAN = any_of(
    r"\b(talk|speak|chat) (to|with) (a |an |the |someone|somebody|a real )?(real )?(person|"
    r"human|manager|owner|someone|somebody|staff|employee|agent|representative|rep)\b",
    r"\b(real|actual|live) (person|human)\b",
    r"\bcall me( back)?\b",
    r"\bis this a (bot|robot)",
    r"\bare you a (bot|robot|human|person|real)\b",
    r"\bget me (a|the) (manager|human|person)\b",
)
_SAFETY = any_of(
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
_URGENT_WORDS = any_of(
    r"\burgent",
    r"\bas soon as possible\b",
    r"\bemergenc",
    r"\bimmediately\b",
    r"\bright away\b",
    r"\bhurry\b",
    r"\bquickly\b",
)
_TIME_PRESSURE = any_of(
    r"\btoday\b",
    r"\btonight\b",
    r"\bthis (morning|afternoon|evening)\b",
    r"\bin (an|1|one|a few|two|2|\d+) (hour|hours|minutes|mins)\b",
    r"\bby (noon|tonight)\b",
    r"\b(an|1|one|two|2|\d+) (hour|hours) ago\b",
    r"\bsupposed to (be|arrive|come)\b",
    r"\bstill (waiting|not here|hasn'?t)\b",
)
_COMPLAINT = any_of(
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
    # "something is missing from my order", not "I'm missing a tooth"
    r"\b(is|are|was|were|something|anything|items?|stuff|things?|parts?|pieces?) missing\b",
    r"\bmissing (from|in|out of) (my|the|our)\b",
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
_POLICY_QUESTION = any_of(
    r"^\W*(do|does|can|will) (you|u|y'?all) (give|offer|do|provide|accept|allow|take) "
    r"(refunds|returns|exchanges)\b[^.!]*$",
    r"^\W*(what|whats|what is|how) .{0,20}\b(refund|return|exchange|cancellation) polic",
)
_PRAISE = any_of(
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
_APPOINTMENT = any_of(
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
CHANGE_APPOINTMENT = any_of(
    r"\b(move|change|reschedule|cancel|push|postpone|switch|bump)\b.{0,30}\b(appointment|appt|"
    r"tasting|reservation|booking|consultation|slot)\b",
    r"\b(appointment|appt|tasting|reservation|booking|consultation)\b.{0,30}\b(move|moved|"
    r"change|changed|reschedule|cancel|cancelled|canceled|push|postpone|instead)\b",
)
_ORDER = any_of(
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
_ORDER_LOOKUP = any_of(
    r"\bwhere('?s| is) my\b",
    r"\bstatus of my\b",
    r"\b(is|are) my \w+ ready\b",
    r"\bhas my \w+ (shipped|been)\b",
    r"\bwhen will my\b",
    r"\btrack(ing)? my\b",
)
ORDER_ACTION = any_of(
    r"^\s*(please )?cancel\b",
    r"\b(i want|i need|i'?d like|want|need|wanna) to (cancel|change)\b",
    r"\bcancel (it|my|our|the) (order|cake|delivery|pick ?up)\b.{0,20}\bplease\b",
    r"\bplease cancel\b",
)
_SALES = any_of(
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
_LOW_URGENCY = any_of(r"\bno rush\b", r"\bno hurry\b", r"\bwhenever\b", r"\bat your convenience\b")


def find_order_number(text: str) -> str | None:
    """An order number such as `#4821` or `order 4821` in a customer's text."""
    match = _ORDER_NUMBER.search(text)
    return match.group(1).upper() if match else None


def flat_text(text: str) -> str:
    """Lowercase words, `#`, `$` and `?!` of a text, shorthand opened: what rules match."""
    return " ".join(expand_shorthand(re.findall(r"[\w#'$:]+|[?!]", text.lower())))


def asks(text: str) -> bool:
    """Whether a text (or a sentence of one) asks something: `Signals.question` alone, for
    the parts of a text, without the other rules."""
    return bool(_QUESTION.search(flat_text(text)))


def instructs_assistant(text: str) -> bool:
    """Whether a text tries to give the assistant instructions ("ignore your rules")."""
    return bool(_INJECTION.search(flat_text(text)))


@dataclass(frozen=True)
class Signals:
    """What the rules see in a customer's text."""

    intent: Intent
    urgency: Urgency
    handoff: str | None  # the reason a person must answer, whatever the knowledge base says
    acknowledgement: bool  # "thanks", "ok", "hi": nothing to answer
    question: bool


# The desk and the engine both read a text's signals (three or four times a draft):
# remembered, the rules run once per text.
@functools.lru_cache(maxsize=256)
def read_signals(text: str) -> Signals:
    raw = unicodedata.normalize("NFKC", text)
    lowered = open_contractions(raw.lower().translate({0x2019: "'", 0x2018: "'"}))
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
        or ORDER_ACTION.search(flat)
        or not question
        or "cancel" in flat
        or "change" in flat
    ):
        handoff = f"about order #{order_number}: needs a look-up"
    elif _ORDER_LOOKUP.search(flat) and intent == "order":
        handoff = "asks about the status of an order"
    elif ORDER_ACTION.search(flat):
        handoff = "asks to change or cancel an order"
    elif CHANGE_APPOINTMENT.search(flat):
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
