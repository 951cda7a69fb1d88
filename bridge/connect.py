"""`sms-bridge connect` and the webhook part of `sms-bridge check`."""

from __future__ import annotations

from rich.console import Console
from twilio.base.exceptions import TwilioException

from bridge.app import make_twilio_client
from bridge.config import Settings
from bridge.phones import InvalidPhone, display, to_e164
from bridge.sms.numbers import InboundWebhooks, Webhook


def _label(webhook: Webhook) -> str:
    return display(webhook.name) if webhook.name.startswith("+") else webhook.name


async def connect(settings: Settings, number: str | None, out: Console) -> int:
    """Point the number (or the Messaging Service) at the bridge; 0 when done."""
    client = make_twilio_client(settings)
    hooks = InboundWebhooks(
        client, settings.twilio_account_sid, f"{settings.bridge_public_url}/sms/inbound"
    )
    try:
        if number is None and settings.twilio_messaging_service_sid:
            before, after = await hooks.connect_service(settings.twilio_messaging_service_sid)
        else:
            target = number or settings.twilio_from_number
            if target is None:
                out.print("[red]✗[/] name a NUMBER, or set TWILIO_FROM_NUMBER")
                return 1
            before, after = await hooks.connect_number(to_e164(target))
    except (LookupError, InvalidPhone, TwilioException) as exc:
        out.print(f"[red]✗[/] {exc}", markup=False)
        return 1
    finally:
        await client.http_client.close()
    if before.url == after.url:
        out.print(f"[green]✓[/] {_label(after)} already sends texts to {after.url}")
    else:
        out.print(
            f"[green]✓[/] {_label(after)}: inbound webhook {before.url or '(none)'} → {after.url}"
        )
    return 0


async def check_webhooks(settings: Settings, out: Console) -> int:
    """Report numbers or services whose inbound webhook points elsewhere; count them."""
    client = make_twilio_client(settings)
    hooks = InboundWebhooks(
        client, settings.twilio_account_sid, f"{settings.bridge_public_url}/sms/inbound"
    )
    try:
        if settings.twilio_messaging_service_sid:
            webhook = await hooks.service(settings.twilio_messaging_service_sid)
        else:
            assert settings.twilio_from_number is not None  # settings require one of the two
            webhook = await hooks.number(to_e164(settings.twilio_from_number))
    except (LookupError, InvalidPhone, TwilioException) as exc:
        out.print(f"[red]✗[/] Twilio webhook: {exc}", markup=False)
        return 1
    finally:
        await client.http_client.close()
    if webhook.url != hooks.expected_url:
        out.print(
            f"[red]✗[/] {_label(webhook)} sends texts to {webhook.url or '(nowhere)'}, "
            f"not {hooks.expected_url}: run `sms-bridge connect`"
        )
        return 1
    out.print(f"[green]✓[/] {_label(webhook)} sends texts to the bridge")
    return 0
