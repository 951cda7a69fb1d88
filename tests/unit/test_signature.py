import random
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from bridge.sms.signature import TwilioSignature

FORM = {"MessageSid": "SM1", "Body": "hi", "From": "+14155550123", "Empty": ""}


def sign(url: str, algorithm: str | None = None) -> str:
    return str(RequestValidator("token").compute_signature(url, FORM, algorithm))


def test_the_public_url_is_what_counts() -> None:
    check = TwilioSignature("token", "https://sms.example.com/")
    assert check.verify("/sms/inbound?x=1", FORM, sign("https://sms.example.com/sms/inbound?x=1"))
    # Twilio sometimes signs with the default port: still valid.
    assert check.verify("/sms/inbound", FORM, sign("https://sms.example.com:443/sms/inbound"))
    # Signed for the internal address behind the proxy, another path, or nothing: refused.
    assert not check.verify("/sms/inbound", FORM, sign("http://10.0.0.5:8080/sms/inbound"))
    assert not check.verify("/sms/inbound", FORM, sign("https://sms.example.com/sms/status"))
    assert not check.verify("/sms/inbound", FORM, None)
    assert not check.verify(
        "/sms/inbound", FORM | {"Body": "changed"}, sign("https://sms.example.com/sms/inbound")
    )


def test_sha256_when_the_request_says_so() -> None:
    check = TwilioSignature("token", "https://sms.example.com")
    url = "https://sms.example.com/sms/inbound"
    header = "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"
    assert check.verify("/sms/inbound", FORM, sign(url, "HMAC_SHA256"), header)
    assert not check.verify("/sms/inbound", FORM, sign(url), header)


def test_forged_headers_are_refused_not_crashing() -> None:
    check = TwilioSignature("token", "https://sms.example.com")
    url = "https://sms.example.com/sms/inbound"
    assert not check.verify("/sms/inbound", FORM, sign(url), "algorithm=MD5")
    assert not check.verify("/sms/inbound", FORM, "sïgnätüre")


def test_a_request_signed_for_the_public_url_costs_one_hmac_and_no_validator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The validator reads each parameter through two AttributeErrors (it looks for
    # MultiDict and QueryDict first): a tenth of a webhook's CPU, for a dict.
    calls: list[str] = []
    for name in ("compute_signature", "validate", "get_values"):
        original = getattr(RequestValidator, name)

        def counted(self: RequestValidator, *args: Any, _o: Any = original, _n: str = name) -> Any:
            calls.append(_n)
            return _o(self, *args)

        monkeypatch.setattr(RequestValidator, name, counted)
    url = "https://sms.example.com/sms/inbound"
    signed = {"SHA1": sign(url), "SHA256": sign(url, "HMAC_SHA256")}
    calls.clear()
    check = TwilioSignature("token", "https://sms.example.com")
    assert check.verify("/sms/inbound", FORM, signed["SHA1"])
    assert check.verify("/sms/inbound", FORM, signed["SHA256"], "algorithm=HMAC_SHA256")
    assert calls == []


@pytest.mark.parametrize("algorithm", [None, "HMAC_SHA1", "HMAC_SHA256", "hmac_sha256"])
def test_the_bridge_signs_forms_as_twilio_does(algorithm: str | None) -> None:
    rng = random.Random(16)
    alphabet = "aZ09 +:/&=%?ïé€😀\n\t'\""
    check = TwilioSignature("token", "https://sms.example.com")
    url = "https://sms.example.com/sms/inbound?a=1"
    header = f"algorithm={algorithm}" if algorithm else None
    for _ in range(200):
        form = {
            "".join(rng.choices(alphabet, k=rng.randint(1, 8))): "".join(
                rng.choices(alphabet, k=rng.randint(0, 12))
            )
            for _ in range(rng.randint(0, 6))
        }
        signature = str(RequestValidator("token").compute_signature(url, form, algorithm))
        assert check.verify("/sms/inbound?a=1", form, signature, header)
        assert not check.verify("/sms/inbound?a=1", form | {"Extra": "x"}, signature, header)
