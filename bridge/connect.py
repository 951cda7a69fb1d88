"""`sms-bridge connect` and the webhook part of `sms-bridge check`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from twilio.base.exceptions import TwilioException

from bridge.app import make_twilio_client
from bridge.config import Settings
from bridge.console_marks import failed, ok
from bridge.phones import InvalidPhone, display, to_e164
from bridge.service_errors import UNREACHABLE, twilio_problem
from bridge.sms.numbers import InboundWebhooks, Webhook


class ConnectFailed(Exception):
    """Why the webhook was not pointed at the bridge, in one line naming the setting."""


def _label(webhook: Webhook) -> str:
    return display(webhook.name) if webhook.name.startswith("+") else webhook.name


@asynccontextmanager
async def _webhooks(settings: Settings) -> AsyncIterator[InboundWebhooks]:
    client = make_twilio_client(settings)
    try:
        yield InboundWebhooks(
            client, settings.twilio_account_sid, f"{settings.bridge_public_url}/sms/inbound"
        )
    finally:
        await client.http_client.close()


async def connect(settings: Settings, number: str | None) -> None:
    """Point the number (or the Messaging Service) at the bridge, or raise ConnectFailed."""
    target = number or settings.twilio_from_number
    async with _webhooks(settings) as hooks:
        try:
            if number is None and settings.twilio_messaging_service_sid:
                service = settings.twilio_messaging_service_sid
                before, after = await hooks.connect_service(service)
            elif target is None:
                raise ConnectFailed("name a NUMBER, or set TWILIO_FROM_NUMBER")
            else:
                before, after = await hooks.connect_number(to_e164(target))
        except (LookupError, InvalidPhone) as exc:
            raise ConnectFailed(str(exc)) from None
        except (TwilioException, *UNREACHABLE) as exc:
            raise ConnectFailed(twilio_problem(settings, exc)) from None
    if before.url == after.url:
        ok(f"{_label(after)} already sends texts to {after.url}")
    else:
        ok(f"{_label(after)}: inbound webhook {before.url or '(none)'} → {after.url}")


async def check_webhooks(settings: Settings) -> int:
    """Report numbers or services whose inbound webhook points elsewhere; count them."""
    async with _webhooks(settings) as hooks:
        try:
            if settings.twilio_messaging_service_sid:
                webhook = await hooks.service(settings.twilio_messaging_service_sid)
            else:
                assert settings.twilio_from_number is not None  # settings require one of two
                webhook = await hooks.number(settings.twilio_from_number)
        except LookupError as exc:
            failed(f"Twilio webhook: {exc}")
            return 1
        except (TwilioException, *UNREACHABLE) as exc:
            failed(f"Twilio webhook: {twilio_problem(settings, exc)}")
            return 1
    if webhook.url != hooks.expected_url:
        failed(
            f"{_label(webhook)} sends texts to {webhook.url or '(nowhere)'}, "
            f"not {hooks.expected_url}: run `sms-bridge connect`"
        )
        return 1
    ok(f"{_label(webhook)} sends texts to the bridge")
    return 0
