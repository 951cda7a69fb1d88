from hypothesis import given
from hypothesis import strategies as st

from bridge.threading.segments import Encoding, cost, normalise


def test_lookalikes_become_gsm7() -> None:
    typed = "It\u2019s \u201cready\u201d \u2014 10\u201312\u00a0am\u2026"
    assert normalise(typed) == 'It\'s "ready" - 10-12 am...'
    assert cost(normalise(typed)).encoding is Encoding.GSM7


def test_segments() -> None:
    assert cost("a" * 160) == cost("a" * 160)
    assert cost("a" * 160).segments == 1
    assert cost("a" * 161).segments == 2
    assert cost("€" * 80).segments == 1  # extension characters take two septets
    assert cost("€" * 81).segments == 2
    assert cost("a" * 306).segments == 2
    assert cost("a" * 307).segments == 3


def test_ucs2_names_the_culprits() -> None:
    result = cost("Thanks 😀 see you 😀 — ok")
    assert result.encoding is Encoding.UCS2
    assert result.culprits == ("😀", "—")
    assert cost("x" * 70).segments == 1
    assert cost("ж" * 71).segments == 2


@given(st.text(alphabet=st.characters(codec="ascii", exclude_categories=("Cc",))))
def test_normalise_leaves_ascii_alone(text: str) -> None:
    assert normalise(text) == text
