"""Phone numbers: E.164 for storage and keys, a readable form for people."""

from __future__ import annotations

import functools
import re

import phonenumbers

_SHORT_CODE = re.compile(r"\d{3,8}")


class InvalidPhone(ValueError):
    pass


_PHONE_TEXT = re.compile(r"\+?[\d\s().\-]{3,24}")


def is_phone_text(text: str) -> bool:
    """Only the characters people write numbers with: digits, spaces, + ( ) . -"""
    return bool(_PHONE_TEXT.fullmatch(text)) and any(c.isdigit() for c in text)


# Every webhook parses its two numbers, and the same few thousand come back all day:
# remembered, parsing costs nothing after the first text (a tenth of a webhook's CPU).
@functools.lru_cache(maxsize=4096)
def to_e164(raw: str, *, region: str = "US", strict: bool = False) -> str:
    """Normalise a number as people and providers write it. Short codes (digits only,
    3-8 long) are kept as they are: they have no E.164 form. `strict` also asks that
    the number be assigned (valid), not just of a possible length."""
    text = raw.strip()
    if _SHORT_CODE.fullmatch(text):
        return text
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(f"{raw!r} is not a phone number") from None
    possible = phonenumbers.is_valid_number if strict else phonenumbers.is_possible_number
    if not possible(parsed):
        raise InvalidPhone(f"{raw!r} is not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# Numbers a person texts from: not premium, shared-cost, pager or unknown lines.
_SUBSCRIBER_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        phonenumbers.PhoneNumberType.VOIP,
        phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
    }
)


def subscriber_number(raw: str, *, region: str = "US") -> str:
    """A number a subscriber could text from, in E.164: assigned, of a known region,
    and a mobile, landline or VoIP line (no short codes, no 911, no toll-free)."""
    text = raw.strip()
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(f"{raw!r} is not a phone number") from None
    if (
        not phonenumbers.is_valid_number(parsed)
        or phonenumbers.number_type(parsed) not in _SUBSCRIBER_TYPES
    ):
        raise InvalidPhone(f"{raw!r} is not a phone number a subscriber texts from")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=4096)  # each text posted to Slack shows its sender's number
def display(e164: str) -> str:
    """+14155550123 → +1 415-555-0123 (international format, readable anywhere)."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def mask(e164: str) -> str:
    """For logs: enough to tell numbers apart, not enough to text them."""
    if len(e164) <= 6:
        return e164
    return f"{e164[:4]}{'•' * (len(e164) - 6)}{e164[-2:]}"
