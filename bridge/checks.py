"""`sms-bridge check`, once the configuration is valid: open the store and try the
credentials against Slack and Twilio, one line each."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from twilio.base.exceptions import TwilioException

from bridge.app import make_slack_client, make_store, make_twilio_client
from bridge.config import BusinessConfig, Settings
from bridge.connect import check_webhooks
from bridge.console_marks import failed, ok
from bridge.routing_settings import RoutingSection
from bridge.service_errors import UNREACHABLE, slack_problem, twilio_problem
from bridge.store.base import StoreUnavailable


async def run_checks(settings: Settings, config: BusinessConfig | None = None) -> int:
    """Print one line per check; return how many failed."""
    problems = 0 if await _store_opens(settings) else 1
    async with aiohttp.ClientSession() as session:
        slack = make_slack_client(settings, session)
        try:
            auth = await slack.auth_test()
            ok(f"Slack: SLACK_BOT_TOKEN works for team {auth.get('team')!s}")
            if config is not None:
                problems += await _teams_reachable(slack, config.routing)
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


async def _teams_reachable(slack: AsyncWebClient, routing: RoutingSection) -> int:
    """Each routing team's channel exists with the app in it, and its user group exists:
    one line each, naming the key; how many failed."""
    problems = 0
    for name, team in routing.teams.items():
        key = f"routing.teams.{name}"
        try:
            info = await slack.conversations_info(channel=team.channel)
            if info["channel"].get("is_member", True):
                ok(f"Slack: {key}.channel {team.channel} has the app in it")
            else:
                problems += 1
                failed(f"{key}.channel: invite the app to {team.channel} (/invite in it)")
        except SlackApiError as exc:
            problems += 1
            failed(
                f"{key}.channel: Slack cannot show the app {team.channel}"
                f" ({exc.response.get('error')}): check the ID, invite the app if it is private"
            )
        if team.user_group is None:
            continue
        try:
            await slack.usergroups_users_list(usergroup=team.user_group)
            ok(f"Slack: {key}.user_group {team.user_group} exists")
        except SlackApiError as exc:
            problems += 1
            failed(
                f"{key}.user_group: {team.user_group} is not a user group of this workspace"
                f" ({exc.response.get('error')})"
            )
    return problems
