"""`sms-bridge check`: try the configured credentials against Slack and Twilio."""

from __future__ import annotations

import aiohttp
from rich.console import Console
from slack_sdk.errors import SlackApiError
from twilio.base.exceptions import TwilioException

from bridge.app import make_slack_client, make_twilio_client
from bridge.config import Settings
from bridge.connect import check_webhooks


async def run_checks(settings: Settings, out: Console) -> int:
    """Print one line per check; return how many failed."""
    problems = 0
    async with aiohttp.ClientSession() as session:
        slack = make_slack_client(settings, session)
        try:
            auth = await slack.auth_test()
            out.print(f"[green]✓[/] Slack: SLACK_BOT_TOKEN works for team {auth.get('team')!s}")
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            problems += 1
            out.print(f"[red]✗[/] Slack: SLACK_BOT_TOKEN / SLACK_API_URL: {_reason(exc)}")
    twilio = make_twilio_client(settings)
    try:
        account = await twilio.api.v2010.accounts(settings.twilio_account_sid).fetch_async()
        out.print(f"[green]✓[/] Twilio: account {account.friendly_name} is {account.status}")
    except (TwilioException, aiohttp.ClientError, TimeoutError) as exc:
        problems += 1
        out.print(f"[red]✗[/] Twilio: TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN: {_reason(exc)}")
    finally:
        await twilio.http_client.close()
    if not problems:  # the webhook can only be read with working credentials
        problems += await check_webhooks(settings, out)
    return problems


def _reason(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", exc.response.status_code))
    return str(exc) or type(exc).__name__
