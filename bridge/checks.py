"""`sms-bridge check`, once the configuration is valid: open the store and try the
credentials against Slack and Twilio, one line each."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError
from twilio.base.exceptions import TwilioException

from bridge.app import make_slack_client, make_store, make_twilio_client
from bridge.config import Settings
from bridge.connect import check_webhooks
from bridge.console_marks import failed, ok
from bridge.service_errors import UNREACHABLE, slack_problem, twilio_problem
from bridge.store.base import StoreUnavailable


async def run_checks(settings: Settings) -> int:
    """Print one line per check; return how many failed."""
    problems = 0 if await _store_opens(settings) else 1
    async with aiohttp.ClientSession() as session:
        slack = make_slack_client(settings, session)
        try:
            auth = await slack.auth_test()
            ok(f"Slack: SLACK_BOT_TOKEN works for team {auth.get('team')!s}")
        except (SlackApiError, *UNREACHABLE) as exc:
            problems += 1
            failed(f"Slack: {slack_problem(settings, exc)}")
    twilio = make_twilio_client(settings)
    try:
        account = await twilio.api.v2010.accounts(settings.twilio_account_sid).fetch_async()
        ok(f"Twilio: account {account.friendly_name} is {account.status}")
    except (TwilioException, *UNREACHABLE) as exc:
        problems += 1
        failed(f"Twilio: {twilio_problem(settings, exc)}")
    finally:
        await twilio.http_client.close()
    if not problems:  # the webhook can only be read with working credentials
        problems += await check_webhooks(settings)
    return problems


async def _store_opens(settings: Settings) -> bool:
    """Open the store as `serve` does (a new SQLite file is created, as `serve` would)."""
    where = "MONGODB_URI" if settings.mongodb_uri else f"SQLite database {settings.bridge_db_path}"
    store = make_store(settings)
    try:
        await store.open()
    except StoreUnavailable as exc:
        failed(f"Store: {exc}")
        return False
    await store.close()
    ok(f"Store: {where} opens")
    return True
