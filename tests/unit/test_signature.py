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
