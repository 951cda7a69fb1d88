import pytest

from bridge.phones import InvalidPhone, display, mask, to_e164


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+14155550123", "+14155550123"),
        ("(415) 555-0123", "+14155550123"),
        ("415.555.0123", "+14155550123"),
        ("+44 20 7946 0958", "+442079460958"),
        ("12345", "12345"),  # a short code stays as it is
    ],
)
def test_numbers_are_normalised_to_e164(raw: str, e164: str) -> None:
    assert to_e164(raw) == e164


@pytest.mark.parametrize("raw", ["", "hello", "+1", "+1 415"])
def test_non_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        to_e164(raw)


def test_display_and_mask() -> None:
    assert display("+14155550123") == "+1 415-555-0123"
    assert mask("+14155550123") == "+141••••••23"
