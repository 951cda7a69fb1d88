"""`sms-bridge connect` and the webhook part of `sms-bridge check`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from bridge.app import make_twilio_client
from bridge.config import Settings
from bridge.console_marks import failed, ok
from bridge.phones import InvalidPhone, display, to_e164
from bridge.service_errors import UNREACHABLE, twilio_problem
from bridge.sms.numbers import WHATSAPP, InboundWebhooks, Webhook


class ConnectFailed(Exception):
    """Why the webhook was not pointed at the bridge, in one line naming the setting."""


def _label(webhook: Webhook) -> str:
    if webhook.name.startswith(WHATSAPP):
        return f"WhatsApp {display(webhook.name.removeprefix(WHATSAPP))}"
    return display(webhook.name) if webhook.name.startswith("+") else webhook.name


@asynccontextmanager
async def _webhooks(settings: Settings) -> AsyncIterator[InboundWebhooks]:
    client = make_twilio_client(settings)
    json_client = Client(settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value())
    json_client.messaging.base_url = settings.twilio_api_url
    try:
        yield InboundWebhooks(
            client,
            settings.twilio_account_sid,
            f"{settings.bridge_public_url}/sms/inbound",
            json_client=json_client,
        )
    finally:
        await client.http_client.close()


async def connect(settings: Settings, number: str | None) -> None:
    """Point the number (or the Messaging Service) at the bridge, and without a NUMBER
    the WhatsApp senders of TWILIO_WHATSAPP_NUMBERS too; or raise ConnectFailed."""
    target = number or settings.twilio_from_number
    async with _webhooks(settings) as hooks:
        try:
            if number is None and settings.twilio_messaging_service_sid:
                service = settings.twilio_messaging_service_sid
                _report(*await hooks.connect_service(service))
            elif target is None:
                raise ConnectFailed("name a NUMBER, or set TWILIO_FROM_NUMBER")
            else:
                _report(*await hooks.connect_number(to_e164(target)))
            for whatsapp in settings.twilio_whatsapp_numbers if number is None else ():
                try:
                    _report(*await hooks.connect_whatsapp(whatsapp))
                except LookupError as exc:
                    raise ConnectFailed(f"TWILIO_WHATSAPP_NUMBERS: {exc}") from None
        except (LookupError, InvalidPhone) as exc:
            raise ConnectFailed(str(exc)) from None
        except (TwilioException, *UNREACHABLE) as exc:
            raise ConnectFailed(twilio_problem(settings, exc)) from None


def _report(before: Webhook, after: Webhook) -> None:
    if before.url == after.url:
        ok(f"{_label(after)} already sends texts to {after.url}")
    else:
        ok(f"{_label(after)}: inbound webhook {before.url or '(none)'} → {after.url}")


async def check_webhooks(settings: Settings) -> int:
    """Report numbers, services or WhatsApp senders whose inbound webhook points
    elsewhere (or that the account does not have); count them."""
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
        problems = _check(webhook, hooks.expected_url, "texts")
        for number in settings.twilio_whatsapp_numbers:
            try:
                whatsapp = await hooks.whatsapp(number)
            except LookupError as exc:
                failed(f"TWILIO_WHATSAPP_NUMBERS: {exc}")
                problems += 1
                continue
            except (TwilioException, *UNREACHABLE) as exc:
                failed(f"Twilio WhatsApp senders: {twilio_problem(settings, exc)}")
                return problems + 1
            problems += _check(whatsapp, hooks.expected_url, "messages")
    return problems


def _check(webhook: Webhook, expected_url: str, what: str) -> int:
    if webhook.url != expected_url:
        failed(
            f"{_label(webhook)} sends {what} to {webhook.url or '(nowhere)'}, "
            f"not {expected_url}: run `sms-bridge connect`"
        )
        return 1
    ok(f"{_label(webhook)} sends {what} to the bridge")
    return 0
