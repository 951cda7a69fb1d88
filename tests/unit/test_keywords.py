"""The keyword engine: what opts out, what opts in, what asks for help, what a human
should look at, and what is just an ordinary message."""

from __future__ import annotations

import time
import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bridge import config
from bridge.compliance import keywords
from bridge.compliance.keywords import (
    DEFAULT_HELP,
    DEFAULT_MATCHER,
    DEFAULT_OPT_IN,
    DEFAULT_OPT_OUT,
    SCAN_CHARS,
    WHOLE_MESSAGE_CHARS,
    KeywordClass,
    KeywordMatcher,
    Verdict,
    classify,
    normalise,
)

OUT, IN, HELP = KeywordClass.OPT_OUT, KeywordClass.OPT_IN, KeywordClass.HELP

# Expected outcomes, short so the corpus reads as a table:
#   "out"    opt-out by keyword (the provider's single-word filter catches it too)
#   "out+"   opt-out the bridge must confirm itself (a phrase or multi-word keyword)
#   "in", "help"
#   "flag"   maybe a revocation: shown to a human, nothing changes
#   None     an ordinary message for the inbox
CORPUS: list[tuple[str, str | None]] = [
    # -- standard opt-out keywords, any case, punctuation, emoji, whitespace
    ("STOP", "out"),
    ("stop", "out"),
    ("Stop.", "out"),
    ("STOP!!", "out"),
    ("stop 🛑", "out"),
    ("🛑 STOP 🛑", "out"),
    ("stop ❤️", "out"),
    ("  stop\n", "out"),
    ("\tStOp\t", "out"),
    ('"stop"', "out"),
    ("“Stop”", "out"),
    ("(stop)", "out"),
    ("**STOP**", "out"),
    ("stop…", "out"),
    ("Stop?", "out"),  # a per-se revocation even as a question: err towards silence
    ("ｓｔｏｐ", "out"),  # fullwidth, NFKC
    ("st\u200bop", "out"),  # zero-width space is invisible
    (" unsubscribe ", "out"),
    ("Unsubscribe!!! 😡😡", "out"),
    ("STOPALL", "out"),
    ("Stopall.", "out"),
    ("CANCEL", "out"),
    ("cancel.", "out"),
    ("End", "out"),
    ("END?", "out"),
    ("quit!", "out"),
    ("Revoke", "out"),
    ("OPTOUT", "out"),
    ("optout", "out"),
    # -- "opt out" with a space or hyphen is a keyword Twilio does not match
    ("OPT OUT", "out+"),
    ("opt-out", "out+"),
    ("Opt Out!", "out+"),
    ("opt_out", "out+"),
    # -- plain-language revocations
    ("Stop please", "out+"),
    ("please stop", "out+"),
    ("STOP STOP STOP", "out+"),
    ("stop it", "out+"),
    ("stop all", "out+"),
    ("no thanks, stop", "out+"),
    ("please stop texting me", "out+"),
    ("Please stop texting me!", "out+"),
    ("stop texting me", "out+"),
    ("pls stop txting me", "out+"),
    ("stop messaging this number", "out+"),
    ("STOP sending me promos", "out+"),
    ("stop sending these", "out+"),
    ("Stop sending texts to this number please", "out+"),
    ("stop all texts", "out+"),
    ("remove me from your list", "out+"),
    ("Please remove my number", "out+"),
    ("take me off your list", "out+"),
    ("Take me off this mailing list!", "out+"),
    ("no more texts", "out+"),
    ("No more messages please 🙏", "out+"),
    ("unsubscribe me", "out+"),
    ("do not text me", "out+"),
    ("don’t text me again", "out+"),
    ("Don't ever text me again", "out+"),
    ("never text this number again", "out+"),
    ("leave me alone", "out+"),
    ("opt me out", "out+"),
    ("I want to opt out", "out+"),
    ("I'd like to unsubscribe from these texts", "out+"),
    ("I wanna stop getting these", "out+"),
    ("I want out", "out+"),
    ("I don't want any more texts", "out+"),
    ("I already unsubscribed", "out+"),
    ("I revoke my consent", "out+"),
    ("unsub", "out+"),
    ("Stop texting me, who is this?", "out+"),  # a whole clause is a phrase
    ("Hi, could you please stop sending me marketing messages? Thanks", "out+"),
    ("Who is this? Stop texting me.", "out+"),
    ("I'm not interested, please remove me", "out+"),
    # -- opt-in
    ("START", "in"),
    ("start.", "in"),
    ("Join!", "in"),
    ("UNSTOP", "in"),
    ("Start?", None),  # a question is not consent
    ("start please", None),  # Twilio only re-subscribes on the single word: say START
    ("Join us Friday?", None),
    ("yes", None),  # only an answer to our opt-in request (see below)
    ("I want to join the loyalty program", None),
    # -- help
    ("HELP", "help"),
    ("help!", "help"),
    ("Info?", "help"),
    ("INFO", "help"),
    ("HELP ME", None),  # a person asking for help gets a person, not the canned reply
    ("can you help me?", None),
    ("more info", None),
    ("helpful", None),
    ("Help is on the way", None),
    # -- ordinary sentences that merely contain a keyword
    ("I want to cancel my order", None),
    ("Cancel my 3pm appointment", None),
    ("I'll stop by at 5", None),
    ("Please stop by the front desk", None),
    ("stopped by yesterday", None),
    ("That's the last stop", None),
    ("I can't stop laughing", None),
    ("Don't stop!", None),
    ("Can you stop the delivery?", None),
    ("I need to stop payment on that check", None),
    ("No stop at the bank today", None),
    ("what time do you end today?", None),
    ("endless", None),
    ("The end", None),
    ("quit smoking tips?", None),
    ("stop2", None),
    ("PARAR", None),  # not a default; a business can add it to its lists
    ("ALTO", None),
    ("", None),
    ("👍", None),
    # -- might be a revocation: flagged for a human
    ("STOP. Who is this?", "flag"),  # a lone keyword in a longer text is too often "wait"
    ("Stop! I'm not home", "flag"),
    ("stop\nplease", "flag"),  # multi-line texts are never keywords
    ("How do I stop these?", "flag"),
    ("how do I unsubscribe?", "flag"),
    ("your texts won't stop", "flag"),
    ("wrong number", "flag"),
    ("You have the wrong number", "flag"),
    ("who is this?", "flag"),
    ("Who's this", "flag"),
    ("I never signed up for this", "flag"),
    ("not interested", "flag"),
    ("is this a scam?", "flag"),
    ("cancel please", "flag"),  # could be the appointment
    ("Cancel it", "flag"),
    ("Cancel my subscription", "flag"),
    ("stooop", "flag"),  # repeated letters are not STOP, but worth a look
    ("🛑", "flag"),
    ("Please unsubscribe me from the newsletter", "flag"),
    ("remove me from the email list", "flag"),  # another channel: a human decides
    ("stop calling me", "flag"),
    (
        "Hi, I have been getting these for weeks and I would really like you to stop "
        "texting me, I never asked for them. My husband gets them too and he is not happy. "
        "Please sort it out today.",
        "flag",
    ),
]


def _expected(label: str | None, text: str) -> tuple[KeywordClass | None, bool, bool]:
    kind = {"out": OUT, "out+": OUT, "in": IN, "help": HELP}.get(label or "")
    return kind, label == "out+", label == "flag"


@pytest.mark.parametrize(("text", "label"), CORPUS, ids=[repr(t)[:40] for t, _ in CORPUS])
def test_corpus(text: str, label: str | None) -> None:
    verdict = classify(text)
    assert (verdict.kind, verdict.revocation_phrase, verdict.flag) == _expected(label, text)
    # Evidence for the audit and the thread note whenever anything was decided.
    assert (verdict.keyword is not None) == (label is not None)


def test_corpus_is_large() -> None:
    assert len(CORPUS) >= 80


def test_keyword_evidence_is_normalised() -> None:
    assert classify("Opt-Out!").keyword == "opt out"
    assert classify(" STOP!! ").keyword == "stop"
    assert classify("Please stop texting me!").keyword == "please stop texting me"
    assert classify("Stop texting me, who is this?").keyword == "stop texting me"
    assert classify("You have the wrong number").keyword == "wrong number"
    assert classify("Just some text") == Verdict()


def test_normalise() -> None:
    assert normalise("  Don’t   text ME!! 🛑 ") == "dont text me"
    assert normalise("OPT-OUT") == "opt out"
    assert normalise("ﬁne") == "fine"  # NFKC ligature
    assert normalise("Straße") == "strasse"  # casefold


# -- YES -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["yes", "YES", "Yes!", "yes 👍"])
def test_yes_opts_in_only_when_awaiting(text: str) -> None:
    assert classify(text, awaiting_opt_in=True) == Verdict(IN, keyword="yes")
    assert classify(text) == Verdict()


@pytest.mark.parametrize("text", ["yes?", "yes please", "yes I'll be there", "yep"])
def test_yes_must_be_a_plain_yes(text: str) -> None:
    assert classify(text, awaiting_opt_in=True).kind is None


def test_opt_out_wins_over_awaiting_opt_in() -> None:
    assert classify("STOP", awaiting_opt_in=True).kind is OUT
    assert classify("no more texts", awaiting_opt_in=True).kind is OUT


# -- configuration ---------------------------------------------------------------------


def test_defaults_from_an_empty_config() -> None:
    assert KeywordMatcher.from_config(None) == DEFAULT_MATCHER
    assert KeywordMatcher.from_config(config.KeywordLists()) == DEFAULT_MATCHER
    assert DEFAULT_MATCHER.opt_out == DEFAULT_OPT_OUT


def test_config_lists_replace_the_defaults() -> None:
    lists = KeywordMatcher.from_config(
        config.KeywordLists(opt_out=["PARAR", "Alto", "baja"], help=["AYUDA"])
    )
    assert lists.opt_in == DEFAULT_OPT_IN  # not given: the default stays
    assert classify("PARAR", lists) == Verdict(OUT, keyword="parar")
    assert classify("¡Alto!", lists).kind is OUT
    assert classify("ayuda", lists) == Verdict(HELP, keyword="ayuda")
    # Replaced, not extended: STOP and HELP are ordinary words for this number now.
    assert classify("STOP", lists).kind is None
    assert classify("HELP", lists).kind is None
    # Phrases are independent of the keyword lists.
    assert classify("stop texting me", lists).kind is OUT
    # A configured keyword inside a sentence is a cue for a human.
    assert classify("alto por favor", lists).flag


def test_an_empty_list_disables_a_class() -> None:
    lists = KeywordMatcher.from_config(config.KeywordLists(help=[]))
    assert lists.help == ()
    assert classify("HELP", lists).kind is None


def test_custom_phrases_and_cues() -> None:
    lists = KeywordMatcher(
        revocation_phrases=("ya no (?:me )?(?:envies|mandes) mensajes",),
        maybe_cues=("numero equivocado",),
    )
    assert classify("Ya no me mandes mensajes", lists) == Verdict(
        OUT, revocation_phrase=True, keyword="ya no me mandes mensajes"
    )
    assert classify("numero equivocado", lists).flag
    assert classify("please stop texting me", lists).kind is None  # defaults replaced
    assert classify("STOP", lists).kind is OUT  # keywords unaffected


def test_configured_phrases_are_written_as_people_write_them() -> None:
    lists = KeywordMatcher(revocation_phrases=("Don't Send {me} Coupons",))
    assert classify("don’t send me coupons!", lists).kind is OUT
    assert classify("Please don't send this number coupons", lists).kind is OUT


def test_everyday_words_are_configurable() -> None:
    assert classify("cancel please").flag
    lists = KeywordMatcher(everyday=())
    assert classify("cancel please", lists).kind is OUT


@pytest.mark.parametrize(
    "lists",
    [
        lambda: KeywordMatcher(opt_in=("START", "STOP")),
        lambda: KeywordMatcher(help=("Cancel!",)),
        lambda: KeywordMatcher(opt_in_replies=("END",)),
        lambda: KeywordMatcher(opt_out=("STOP", "🛑")),
        lambda: KeywordMatcher(revocation_phrases=("stop (",)),
    ],
)
def test_bad_lists_fail_at_construction(lists: object) -> None:
    assert callable(lists)
    with pytest.raises(ValueError, match=r"keyword|reply|phrase"):
        lists()


# -- properties ------------------------------------------------------------------------

# Whitespace, punctuation and emoji, including multi-code-point emoji (VS16, skin tone, ZWJ).
_WRAP = st.lists(
    st.sampled_from(
        [*' \t\n.!?,;:-_*"()[]…—–“”«»¡¿', "🛑", "❤️", "👍🏽", "😡", "🙏", "👨‍👩‍👧", "\u200b"]
    ),
    max_size=12,
).map("".join)


def _cased(word: str, flips: list[bool]) -> str:
    return "".join(c.upper() if f else c.lower() for c, f in zip(word, flips, strict=False))


@given(
    st.sampled_from(DEFAULT_OPT_OUT + DEFAULT_HELP),
    _WRAP,
    _WRAP,
    st.lists(st.booleans(), min_size=12, max_size=12),
)
def test_wrapped_keywords_keep_their_class(
    word: str, left: str, right: str, flips: list[bool]
) -> None:
    verdict = classify(left + _cased(word, flips) + right)
    assert verdict.kind is (OUT if word in DEFAULT_OPT_OUT else HELP)
    assert verdict.keyword == normalise(word)


@given(
    st.sampled_from(DEFAULT_OPT_IN),
    _WRAP.filter(lambda s: "?" not in s),
    _WRAP.filter(lambda s: "?" not in s),
    st.lists(st.booleans(), min_size=12, max_size=12),
)
def test_wrapped_opt_in_keywords_opt_in(
    word: str, left: str, right: str, flips: list[bool]
) -> None:
    assert classify(left + _cased(word, flips) + right).kind is IN


# Every default keyword, plus the one default phrase a glued keyword can spell.
_ALL_DEFAULT_WORDS = {
    normalise(w) for w in (*DEFAULT_OPT_OUT, *DEFAULT_OPT_IN, *DEFAULT_HELP, "unsubscribed")
}
_LETTERS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEZ", max_size=4)
_ORDINARY_WORDS = st.lists(
    st.sampled_from(["see", "you", "at", "the", "shop", "tomorrow", "my", "order", "is", "ok"]),
    max_size=6,
).map(" ".join)


@given(
    st.sampled_from(DEFAULT_OPT_OUT), _LETTERS, _LETTERS, _ORDINARY_WORDS, _ORDINARY_WORDS, _WRAP
)
def test_letter_adjacent_keywords_never_opt_out(
    word: str, before: str, after: str, lead: str, tail: str, punct: str
) -> None:
    # "stopped", "endless", "xquit": a keyword glued to letters is a different word.
    assume(before or after)
    glued = before + word + after
    assume(not {normalise(part) for part in glued.split()} & _ALL_DEFAULT_WORDS)
    assert classify(f"{lead} {glued}{punct} {tail}").kind is not OUT


@given(st.text(max_size=300))
def test_any_text_gives_a_consistent_verdict(text: str) -> None:
    verdict = classify(text)
    assert not (verdict.flag and verdict.kind is not None)
    assert not (verdict.revocation_phrase and verdict.kind is not OUT)
    assert (verdict.keyword is None) == (verdict.kind is None and not verdict.flag)


@given(st.sampled_from(DEFAULT_OPT_OUT + DEFAULT_OPT_IN + DEFAULT_HELP), st.text(min_size=1))
def test_long_or_multiline_texts_are_never_keywords(word: str, other: str) -> None:
    assert classify(word + "\n" + other + "x").kind is None
    assert classify(word + " " + "x" * WHOLE_MESSAGE_CHARS).kind is None


def test_adversarial_texts_are_fast() -> None:
    texts = [
        "stop " * 400,
        "please " * 30 + "stop",
        "s" * 5000,
        "s" * 500 + "t" * 500 + "o" * 500 + "x",
        "stop" + "p" * 3000,
        "i want to " * 200,
        "no more " * 300,
        "stop sending me " + "any more " * 200,
        "🛑❤️" * 2000,
        "\u0301" * 3000,
    ]
    start = time.perf_counter()
    for text in texts:
        for _ in range(10):
            classify(text)
    # Generous bound: catastrophic backtracking would take seconds, not milliseconds.
    assert time.perf_counter() - start < 1.0


def test_only_the_first_scan_chars_are_read() -> None:
    assert classify("x" * SCAN_CHARS + " wrong number").flag is False
    assert classify("x" * (SCAN_CHARS - 20) + " wrong number").flag


# -- the ASCII fast path: the same verdicts as the general one, for less CPU -----------------


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=200))
def test_ascii_text_normalises_as_any_text_does(text: str) -> None:
    general = keywords._normalise_unicode(
        unicodedata.normalize("NFKC", text.translate(keywords._APOSTROPHES)).casefold()
    )
    assert keywords._normalise(text) == general


# Words of the phrases and cues, and their near misses, for texts that exercise them.
_VOCAB = (
    "stop texting me please do not dont text this number my phone wrong who is are you "
    "unsubscribe unsub opt out of optout cancel end quit bus the order sending these messages "
    "no more spam scam take off your list i want to we id like never sign signed up go away "
    "thanks now again stooop stopp subscription remove from revoke consent k i s 0 7 a"
).split()


@given(st.lists(st.sampled_from(_VOCAB), max_size=12))
def test_ascii_patterns_match_as_the_unicode_ones(words: list[str]) -> None:
    text = " ".join(words)
    matchers = DEFAULT_MATCHER._m
    for twin in (matchers.phrase, matchers.everyday, matchers.cue):
        assert twin.ascii is not None
        for pattern in ("fullmatch", "search"):
            fast, general = (getattr(p, pattern)(text) for p in (twin.ascii, twin.unicode))
            assert (fast and fast.span()) == (general and general.span())


def test_patterns_with_other_letters_are_matched_as_unicode_only() -> None:
    matcher = KeywordMatcher(revocation_phrases=("arrête {msgs}",))
    assert matcher._m.phrase.ascii is None
    assert classify("Arrête ces messages", matcher).kind is None  # "ces" is no {msgs} word
    assert classify("ARRÊTE these messages", matcher) == Verdict(
        OUT, revocation_phrase=True, keyword="arrête these messages"
    )
