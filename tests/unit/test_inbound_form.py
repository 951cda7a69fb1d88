import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.sms.inbound_form import MalformedForm, parse_inbound

SID = "SM" + "0" * 32


def form(**extra: str) -> dict[str, str]:
    return {"MessageSid": SID, "From": "+14155550123", "To": "+14155550100", "Body": "hi"} | extra


def test_a_plain_text() -> None:
    sms = parse_inbound(form(FromCity="SF", NewParam="Twilio adds these without notice"))
    assert (sms.sid, sms.subscriber, sms.business_number, sms.body) == (
        SID,
        "+14155550123",
        "+14155550100",
        "hi",
    )
    assert sms.media == ()


def test_media_items() -> None:
    sms = parse_inbound(
        form(
            NumMedia="2",
            MediaUrl0="https://m/0",
            MediaContentType0="image/jpeg",
            MediaUrl1="https://m/1",
            MediaContentType1="image/png",
        )
    )
    assert [m.url for m in sms.media] == ["https://m/0", "https://m/1"]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"MessageSid": "SM123"}, "MessageSid"),
        ({"Body": "x" * 1601}, "1600"),
        ({"From": "nobody"}, "From is not a phone number"),
        ({"NumMedia": "11"}, "NumMedia"),
        ({"NumMedia": "x"}, "NumMedia"),
        ({"NumMedia": "1", "MediaUrl0": "javascript:alert(1)"}, "MediaUrl0"),
    ],
)
def test_malformed_forms_say_why(fields: dict[str, str], reason: str) -> None:
    with pytest.raises(MalformedForm, match=reason):
        parse_inbound(form(**fields))


def test_1600_characters_is_still_fine() -> None:
    assert len(parse_inbound(form(Body="é" * 1600)).body) == 1600


fields = st.sampled_from(["From", "To", "Body", "NumMedia", "MediaUrl0", "MediaContentType0"])


@given(st.dictionaries(fields | st.text(max_size=12), st.text(max_size=40), max_size=8))
def test_any_form_is_a_message_or_malformed(extra: dict[str, str]) -> None:
    with contextlib.suppress(MalformedForm):
        parse_inbound(form() | extra)
