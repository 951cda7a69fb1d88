"""The keyword engine: does an inbound text opt out, opt in or ask for help?

Runs on every inbound text before the conversation logic. Pure: no I/O, no clock.

Precision rules, because a false opt-out silences a customer and a missed one can cost
a TCPA claim:
- A keyword counts only as the whole message (Twilio matches single words only), give or
  take case, surrounding whitespace, punctuation and emoji. "stooop" and "stopped" are not
  STOP.
- Plain-language revocations ("please stop texting me") opt out like a keyword when the
  whole message, or one whole clause of a short message, is such a phrase. Twilio does not
  catch them, so the verdict says so and the bridge sends the one confirmation itself.
- Texts that only might mean it ("wrong number", "how do I stop these") are flagged for a
  human, never opted out.
- Opt-in errs the other way: a question ("Start?") or a polite sentence is not consent.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bridge.config import KeywordLists


class KeywordClass(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


@dataclass(frozen=True)
class Verdict:
    kind: KeywordClass | None = None
    # Opted out by something the provider's single-word filter does not catch (a phrase,
    # a multi-word keyword such as "opt out"): the bridge must confirm it itself.
    revocation_phrase: bool = False
    # Might be a revocation: show it to a human, change nothing.
    flag: bool = False
    # Normalised keyword, phrase or cue that decided it: audit evidence, thread notes.
    keyword: str | None = None


ORDINARY = Verdict()

# Whole-message matching stops here: a keyword hidden in a long text is not a keyword.
WHOLE_MESSAGE_CHARS = 160
# Only this much of a text is read at all (Twilio's own maximum), which bounds the work.
SCAN_CHARS = 1600

# ---- normalisation ---------------------------------------------------------------------

# Dropped rather than split on, so "don’t" reads as "dont" and "st\u200bop" as "stop".
# Mapped before NFKC, which turns "´" into a space and a combining accent.
_APOSTROPHES = str.maketrans(dict.fromkeys("'’‘ʼ`´′＇"))
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
# Clause ends: a phrase may be one clause of a message ("Stop texting me, who is this?").
_CLAUSE_ENDS = frozenset(".!?;,:…—–¡¿")
_STOP_SIGNS = frozenset("🛑⛔🚫✋")


@dataclass(frozen=True)
class _Text:
    clauses: tuple[str, ...]  # casefolded words joined by single spaces
    multiline: bool  # words on more than one line
    question: bool
    stop_sign: bool

    @property
    def whole(self) -> str:
        return " ".join(self.clauses)


def _normalise(text: str) -> _Text:
    """NFKC + casefold, then words of letters and digits; everything else separates them."""
    text = text.translate(_APOSTROPHES)
    if text.isascii():
        return _normalise_ascii(text.lower())
    return _normalise_unicode(unicodedata.normalize("NFKC", text).casefold())


# In ASCII, NFKC changes nothing and casefold is lower(); there are no format characters
# or combining marks, so words are runs of [a-z0-9] and regexes find them at C speed.
_ASCII_LINES = re.compile("[" + re.escape("".join(c for c in _LINE_BREAKS if c.isascii())) + "]")
_ASCII_CLAUSES = re.compile("[" + re.escape("".join(c for c in _CLAUSE_ENDS if c.isascii())) + "]")
_ASCII_WORD = re.compile(r"[a-z0-9]+")


def _normalise_ascii(text: str) -> _Text:
    """What `_normalise_unicode` makes of lower-case ASCII text, a third of its cost."""
    clauses: list[str] = []
    lines = 0
    for line in _ASCII_LINES.split(text):
        before = len(clauses)
        for clause in _ASCII_CLAUSES.split(line):
            if words := _ASCII_WORD.findall(clause):
                clauses.append(" ".join(words))
        lines += len(clauses) > before
    return _Text(clauses=tuple(clauses), multiline=lines > 1, question="?" in text, stop_sign=False)


def _normalise_unicode(text: str) -> _Text:
    """Any NFKC-normalised, casefolded text. A hand loop rather than a regex so combining
    marks stay inside their word (Devanagari vowel signs, say) while invisible format
    characters and variation selectors vanish."""
    clauses: list[str] = []
    words: list[str] = []
    word: list[str] = []
    lines = 0
    line_has_word = False

    def end_word() -> None:
        if word:
            words.append("".join(word))
            word.clear()

    def end_clause() -> None:
        end_word()
        if words:
            clauses.append(" ".join(words))
            words.clear()

    for ch in text:
        if ch.isalnum():
            if not line_has_word:
                lines += 1
                line_has_word = True
            word.append(ch)
            continue
        category = unicodedata.category(ch)
        if category == "Cf" or "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef":
            continue
        if category[0] == "M" and word:
            word.append(ch)
        elif ch in _CLAUSE_ENDS or ch in _LINE_BREAKS:
            end_clause()
            if ch in _LINE_BREAKS:
                line_has_word = False
        else:
            end_word()
    end_clause()
    return _Text(
        clauses=tuple(clauses),
        multiline=lines > 1,
        question="?" in text,
        stop_sign=any(ch in _STOP_SIGNS for ch in text),
    )


def normalise(text: str) -> str:
    """How a keyword or message looks to the matcher: "Opt-Out!" → "opt out"."""
    return _normalise(text).whole


# ---- default lists ---------------------------------------------------------------------

DEFAULT_OPT_OUT = (
    "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT",
)  # fmt: skip
DEFAULT_OPT_IN = ("START", "JOIN", "UNSTOP")
# Opt in only as the answer to our own opt-in request: "yes" answers many questions.
DEFAULT_OPT_IN_REPLIES = ("YES",)
DEFAULT_HELP = ("HELP", "INFO")
# Opt-out keywords that are everyday verbs: alone they opt out (they are per-se
# revocations), but "cancel please" after an appointment reminder is only flagged.
DEFAULT_EVERYDAY = ("CANCEL", "END", "QUIT")

# Phrase patterns are regexes over normalised text (casefolded words, single spaces, no
# punctuation or apostrophes) with these placeholders. Plural nouns only: "cancel this
# message" may mean a message the customer sent.
_PLACEHOLDERS = {
    "{me}": r"(?:me|us|this number|my number|this phone|my phone|this phone number"
    r"|my phone number|this cell|my cell|this line)",
    "{msgs}": r"(?:(?:any more|anymore|any|these|those|the|your|ur|all|all of these|all these"
    r"|all your|all the|all of your|my|such|this|more) )?"
    r"(?:(?:promotional|promo|marketing|text|sms|spam|automated|advertising) )?"
    r"(?:texts|txts|messages|msgs|sms|smses|promos|promotions|marketing|ads|advertisements"
    r"|advertising|spam|notifications|alerts|reminders)",
    "{list}": r"(?:(?:your|the|this|ur|these|all|all your|all of your|all the|any|every|my) )?"
    r"(?:(?:mailing|texting|text|sms|contact|marketing|messaging|call|calling|distribution"
    r"|subscriber|subscription|promo|promotional|sending) )?"
    r"(?:list|lists|database|system|contacts|records)",
    "{these}": r"(?:these|those|them|this|it|that|all|everything)",
}

REVOCATION_PHRASES: tuple[str, ...] = (
    # "stop texting me", "quit messaging this number", "stop spamming"
    r"(?:stop|quit|cease) (?:(?:texting|txting|texing|messaging|msging|spamming|contacting"
    r"|bothering|harassing)(?: {me})?|(?:text|txt|message|msg) {me})",
    # "stop sending me promos", "stop sending texts to this number"
    r"(?:stop|quit|cease) sending(?: {me})?(?: (?:{msgs}|{these}))?(?: to {me})?",
    # "stop all texts", "end these messages", "opt out of marketing texts"
    r"(?:stop|end|cancel|quit|unsubscribe from|unsub from|opt out of|optout of) {msgs}",
    # "unsubscribe me", "remove my number from your list"
    r"(?:unsubscribe|unsub|opt out|optout|remove|delete) {me}"
    r"(?: (?:from|off|of) (?:{list}|{msgs}))?",
    # "take me off your list", "get this number off the list"
    r"(?:take|get) {me} off(?: (?:of )?(?:{list}|{msgs}))?",
    r"opt {me} out(?: of (?:{list}|{msgs}))?",
    r"no more (?:texting|messaging|{msgs})",
    # "do not text me", "don't ever text me", "never message this number"
    r"(?:do not|dont|never|dont ever|do not ever|never ever) (?:text|txt|message|msg|sms"
    r"|contact|spam|send) {me}(?: (?:{msgs}|{these}))?",
    r"leave {me} alone",
    # "I want to opt out", "I'd like to be removed from your list", "I wanna stop getting these"
    r"(?:(?:i|we) (?:want|wanna|would like|need|wish)|(?:id|wed) like)(?: to)? (?:opt out|optout"
    r"|unsubscribe|unsub|be removed|be taken off|out|stop {msgs}"
    r"|(?:stop|quit) (?:receiving|getting)(?: (?:{msgs}|{these}))?)"
    r"(?: (?:from|of|off) (?:{list}|{msgs}))?",
    # "I don't want these texts", "I no longer want to receive messages"
    r"(?:i|we) (?:do not|dont|no longer) (?:want|wish|need)(?: to (?:receive|get))?"
    r" (?:{msgs}|{these})",
    # "I opted out", "I already unsubscribed"
    r"(?:i|we|ive|weve|i have|we have)(?: already)? (?:opt out|optout|opted out|unsubscribe"
    r"|unsubscribed)(?: (?:from|of) (?:{list}|{msgs}))?",
    # "revoke consent", "I withdraw my consent"
    r"(?:(?:i|we) )?(?:revoke|withdraw|cancel) (?:my |our |all |any )?(?:consent|permission)",
    # Sent on their own: common misspellings and past tenses nobody uses for anything else.
    r"unsub|unsubcribe|unsuscribe|unsubscibe|unsubsribe|unsubscribed|opted out",
)

# Searched anywhere in a text of any length; a hit flags the text for a human.
MAYBE_CUES: tuple[str, ...] = (
    r"wrong (?:number|person|phone|guy|girl|num)",
    r"who(?: is|s)? (?:this|dis)|who are (?:you|u)",
    r"how did (?:you|u) get (?:my|this)(?: (?:number|phone|phone number|cell|digits))?",
    r"(?:never|didnt|did not|dont remember) sign(?:ed)? up",
    r"(?:not|no longer|not really) interested",
    r"spam|spamming|scam",
    r"(?:cancel|end|stop) (?:my |the |this |your )?subscription",
    r"go away|get lost|(?:fuck|f|piss) off",
    # Calls and email are other channels: whether texts should stop too is a human's call.
    r"(?:do not|dont|never|stop) (?:call|calling|email|emailing) {me}",
    r"how (?:do|can|could) (?:i|we|u|you) (?:opt out|optout|unsubscribe|unsub|get off"
    r"|be removed|get removed)",
    r"(?!stop(?![^ ]))s{1,4}t{1,4}o{1,8}p{1,8}",  # "stooop", "stopp": not STOP; a human looks
)

# Polite and emphatic wrapping around a phrase or an unambiguous keyword. Each repeat
# is bounded and the subject is at most WHOLE_MESSAGE_CHARS long: no runaway backtracking.
_PRE = (
    r"(?:(?:ok|okay|hi|hey|hello|hi there|yo|sorry|yes|yeah|no|nope|nah|no thanks|no thank you"
    r"|just|seriously|omg|sir|maam|so|and|again) ){0,2}"
    r"(?:(?:please|pls|plz|plss|plse|kindly|can you|could you|can u|could u|would you|will you"
    r"|will u|would u|i said|i said to) ){0,2}"
)
_POST = (
    r"(?: (?:please|pls|plz|plss|plse|now|right now|thanks|thank you|thank u|thx|ty|asap"
    r"|immediately|already|again|anymore|any more|ever again|for good|forever|permanently|ok"
    r"|okay|bye|goodbye|sir|maam|seriously|lol)){0,3}"
)
_MORE = r"(?:it|this|that|them|these|all|everything)"
# "stop" has everyday senses the other keywords lack: where it is a place or a visit, or
# negated, it is not a cue.
_STOP_CUE = (
    r"(?<!bus )(?<!pit )(?<!next )(?<!last )(?<!first )(?<!one )(?<!non )(?<!full )(?<!truck )"
    r"(?<!rest )(?<!a )(?<!the )(?<!my )(?<!your )(?<!our )(?<!each )(?<!every )(?<!dont )"
    r"(?<!cant )(?<!never )(?<!quick )(?<!final )stop"
    r"(?! (?:by|in|at|over|off|on|round|around|past|for|there|here|sign|signs|light|lights"
    r"|and|to)(?![^ ]))"
    r"(?! (?:the |my |our |that |your )?(?:order|orders|delivery|deliveries|shipment|payment"
    r"|payments|charge|charges|check|transfer|car|truck|leak|water|work|noise|alarm|bleeding"
    r"|pain|crying|worrying|being)(?![^ ]))"
)
_NEVER = r"(?!)"


def _expand(pattern: str) -> str:
    # Operators type phrases as people write them: the text they meet has no apostrophes
    # (and is casefolded, hence IGNORECASE when compiling).
    pattern = pattern.translate(_APOSTROPHES)
    for name, regex in _PLACEHOLDERS.items():
        pattern = pattern.replace(name, regex)
    return pattern


def _alternation(patterns: list[str]) -> str:
    return "|".join(f"(?:{p})" for p in patterns) if patterns else _NEVER


def _token_bounded(pattern: str) -> str:
    # Words are separated by single spaces, so "not inside a word" is "next to a space".
    return rf"(?<![^ ])(?:{pattern})(?![^ ])"


@dataclass(frozen=True)
class _Twin:
    """A pattern over normalised text, and the same compiled for ASCII (when it is ASCII).

    Normalised ASCII text is only a-z, 0-9 and spaces, where both match alike; the ASCII
    one is much faster, as case-insensitive Unicode matching tries each character's case
    variants ("k" is also the Kelvin sign)."""

    unicode: re.Pattern[str]
    ascii: re.Pattern[str] | None

    @classmethod
    def compile(cls, pattern: str, flags: int = 0) -> _Twin:
        ascii = re.compile(pattern, flags | re.ASCII) if pattern.isascii() else None
        return cls(re.compile(pattern, flags), ascii)

    def _for(self, text: str) -> re.Pattern[str]:
        return self.ascii if self.ascii is not None and text.isascii() else self.unicode

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return self._for(text).fullmatch(text)

    def search(self, text: str) -> re.Match[str] | None:
        return self._for(text).search(text)


@dataclass(frozen=True)
class _Matchers:
    keywords: dict[str, KeywordClass]
    replies: frozenset[str]
    phrase: _Twin
    everyday: _Twin
    cue: _Twin


@dataclass(frozen=True)
class KeywordMatcher:
    """The words and phrases for one business number, compiled into what `classify` matches.

    Keywords are written as people see them ("OPT OUT", "Opt-Out"). Phrases and cues are
    regexes matched against normalised text (see `normalise`: words separated by single
    spaces, no punctuation, no apostrophes, any case), so "don't text me" works as written
    but "stop!" does not; they may use the placeholders {me}, {msgs}, {list}, {these}.
    A phrase opts out when it is the whole message or a whole clause, with polite
    wrapping ("please ... thanks"); a cue flags the text wherever it occurs."""

    opt_out: tuple[str, ...] = DEFAULT_OPT_OUT
    opt_in: tuple[str, ...] = DEFAULT_OPT_IN
    opt_in_replies: tuple[str, ...] = DEFAULT_OPT_IN_REPLIES
    help: tuple[str, ...] = DEFAULT_HELP
    everyday: tuple[str, ...] = DEFAULT_EVERYDAY
    revocation_phrases: tuple[str, ...] = REVOCATION_PHRASES
    maybe_cues: tuple[str, ...] = MAYBE_CUES
    _m: _Matchers = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Compiled once per business number; a bad list fails here, at startup.
        object.__setattr__(self, "_m", self._compile())

    @classmethod
    def from_config(cls, overrides: KeywordLists | None = None) -> KeywordMatcher:
        """The defaults, with each list the config gives replacing (not extending) ours."""
        if overrides is None:
            return cls()
        return cls(
            opt_out=DEFAULT_OPT_OUT if overrides.opt_out is None else tuple(overrides.opt_out),
            opt_in=DEFAULT_OPT_IN if overrides.opt_in is None else tuple(overrides.opt_in),
            help=DEFAULT_HELP if overrides.help is None else tuple(overrides.help),
        )

    def _compile(self) -> _Matchers:
        keywords: dict[str, KeywordClass] = {}
        for kind, words in (
            (KeywordClass.OPT_OUT, self.opt_out),
            (KeywordClass.OPT_IN, self.opt_in),
            (KeywordClass.HELP, self.help),
        ):
            for word in words:
                key = _keyword(word)
                if keywords.setdefault(key, kind) is not kind:
                    raise ValueError(f"keyword {word!r} is both {keywords[key]} and {kind}")
        replies = frozenset(_keyword(w) for w in self.opt_in_replies)
        for key in replies:
            if keywords.get(key, KeywordClass.OPT_IN) is not KeywordClass.OPT_IN:
                raise ValueError(f"opt-in reply {key!r} is also a {keywords[key]} keyword")

        opt_out = [k for k, kind in keywords.items() if kind is KeywordClass.OPT_OUT]
        everyday_words = {_keyword(w) for w in self.everyday}
        strong = [re.escape(k) for k in opt_out if k not in everyday_words]
        everyday = [re.escape(k) for k in opt_out if k in everyday_words]
        phrases = [_expand(p) for p in self.revocation_phrases]
        cues = [_expand(c) for c in self.maybe_cues]

        strong_alt = _alternation(strong)
        strong_ext = rf"(?:{strong_alt})(?: (?:{strong_alt}|{_MORE})){{0,3}}"
        everyday_ext = rf"(?:{_alternation(everyday)})(?: {_MORE})?"
        strong_cue = [_STOP_CUE if k == "stop" else k for k in strong]
        try:
            return _Matchers(
                keywords=keywords,
                replies=replies,
                phrase=_Twin.compile(
                    rf"{_PRE}(?:{strong_ext}|{_alternation(phrases)}){_POST}", re.IGNORECASE
                ),
                everyday=_Twin.compile(rf"{_PRE}{everyday_ext}{_POST}"),
                cue=_Twin.compile(
                    _token_bounded(_alternation([*phrases, *strong_cue, *cues])), re.IGNORECASE
                ),
            )
        except re.error as exc:
            raise ValueError(f"bad revocation phrase or cue: {exc}") from None


def _keyword(word: str) -> str:
    key = normalise(word)
    if not key:
        raise ValueError(f"keyword {word!r} has no letters or digits")
    return key


DEFAULT_MATCHER = KeywordMatcher()


def classify(
    text: str, matcher: KeywordMatcher = DEFAULT_MATCHER, *, awaiting_opt_in: bool = False
) -> Verdict:
    """Classify one inbound text. `awaiting_opt_in`: our last outbound message to this
    subscriber asked them to opt in, so "YES" answers it."""
    m = matcher._m
    norm = _normalise(text[:SCAN_CHARS])
    whole = norm.whole
    if not whole:
        # "🛑" alone probably means stop, but an emoji is not a keyword.
        return Verdict(flag=True, keyword="stop sign") if norm.stop_sign else ORDINARY

    if len(text.strip()) <= WHOLE_MESSAGE_CHARS and not norm.multiline:
        kind = m.keywords.get(whole)
        if kind is KeywordClass.OPT_OUT:
            # Twilio's filter catches single words only: "opt out" needs our confirmation.
            return Verdict(kind, revocation_phrase=" " in whole, keyword=whole)
        if kind is KeywordClass.HELP:
            return Verdict(kind, keyword=whole)
        if not norm.question and (
            kind is KeywordClass.OPT_IN or (awaiting_opt_in and whole in m.replies)
        ):
            return Verdict(KeywordClass.OPT_IN, keyword=whole)

        # A lone keyword as one clause of a longer text ("Stop! I'm not home") is too
        # often an ordinary word: only phrases count clause by clause.
        clauses = [whole]
        if len(norm.clauses) > 1:
            clauses += [c for c in norm.clauses if c not in m.keywords and c not in m.replies]
        for clause in clauses:
            if m.phrase.fullmatch(clause):
                return Verdict(KeywordClass.OPT_OUT, revocation_phrase=True, keyword=clause)
        for clause in clauses:
            if m.everyday.fullmatch(clause):
                return Verdict(flag=True, keyword=clause)

    cue = m.cue.search(whole)
    if cue is not None:
        return Verdict(flag=True, keyword=cue.group(0))
    return ORDINARY
