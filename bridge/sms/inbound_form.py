"""Twilio's inbound-message form → an `InboundSms` model, or a reason it is malformed.
SMS and WhatsApp share the webhook: WhatsApp's From and To carry a `whatsapp:` prefix."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bridge.models import Channel, InboundSms, Media, split_address
from bridge.phones import InvalidPhone, to_e164

MAX_BODY = 1600  # Twilio's own limit for one message
MAX_MEDIA = 10  # Twilio delivers at most 10 media items per MMS
_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")


class MalformedForm(ValueError):
    """The request is not a Twilio inbound message; the text says why."""


def parse_inbound(form: Mapping[str, str]) -> InboundSms:
    sid = form.get("MessageSid", "")
    if not _SID.fullmatch(sid):
        raise MalformedForm("MessageSid missing or not a message SID")
    body = form.get("Body", "")
    if len(body) > MAX_BODY:
        raise MalformedForm(f"Body longer than {MAX_BODY} characters")
    (channel, subscriber), (to_channel, business) = _address(form, "From"), _address(form, "To")
    if channel is not to_channel:
        raise MalformedForm("From and To must be on the same channel (sms or whatsapp:)")
    return InboundSms(
        sid=sid,
        channel=channel,
        subscriber=subscriber,
        business_number=business,
        body=body,
        media=_media(form),
    )


def _address(form: Mapping[str, str], field: str) -> tuple[Channel, str]:
    # Without the value in the reasons: they are logged, and a near-number is someone's.
    try:
        channel, number = split_address(form.get(field, ""))
    except ValueError:
        raise MalformedForm(f"{field} is on an unknown channel") from None
    try:
        return channel, to_e164(number)
    except InvalidPhone:
        raise MalformedForm(f"{field} is not a phone number") from None


def _media(form: Mapping[str, str]) -> tuple[Media, ...]:
    try:
        count = int(form.get("NumMedia", "0") or 0)
    except ValueError:
        raise MalformedForm("NumMedia is not a number") from None
    if not 0 <= count <= MAX_MEDIA:
        raise MalformedForm(f"NumMedia must be 0-{MAX_MEDIA}")
    items = []
    for n in range(count):
        url = form.get(f"MediaUrl{n}", "")
        if not url.startswith(("https://", "http://")):
            raise MalformedForm(f"MediaUrl{n} missing or not an http(s) URL")
        items.append(Media(url=url, content_type=form.get(f"MediaContentType{n}", "")))
    return tuple(items)
