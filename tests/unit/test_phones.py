import phonenumbers
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


def test_a_number_is_formatted_for_people_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every text posted to Slack shows its sender's number (when the contact has no name).
    display.cache_clear()  # other tests may have shown this number already
    parsed: list[str] = []
    original = phonenumbers.parse
    monkeypatch.setattr(phonenumbers, "parse", lambda *a: parsed.append(a[0]) or original(*a))
    assert [display("+14155550177") for _ in range(3)] == ["+1 415-555-0177"] * 3
    assert display("not a number") == "not a number"
    assert parsed.count("+14155550177") == 1
