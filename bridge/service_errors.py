"""Why a call to Slack or Twilio failed, in one line naming the setting to look at:
`check` reports it, `connect` stops with it."""

from __future__ import annotations

import os

import aiohttp
from slack_sdk.errors import SlackApiError
from twilio.base.exceptions import TwilioException, TwilioRestException

from bridge.config import Settings

# What a failed call can raise besides the SDK's own errors: the service is unreachable.
UNREACHABLE = (aiohttp.ClientError, TimeoutError, OSError)


def _unreachable(setting: str, url: str, exc: Exception) -> str:
    if isinstance(exc, TimeoutError):
        reason = "no answer in time"
    elif isinstance(exc, aiohttp.ClientConnectorError) and exc.os_error.errno:
        reason = os.strerror(exc.os_error.errno).lower()
    else:
        reason = str(exc) or type(exc).__name__
    return f"{setting}: cannot reach {url} ({reason})"


def slack_problem(settings: Settings, exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        answer = exc.response.get("error", exc.response.status_code)
        return f"SLACK_BOT_TOKEN: Slack answered {answer}"
    return _unreachable("SLACK_API_URL", settings.slack_api_url, exc)


def twilio_problem(settings: Settings, exc: Exception) -> str:
    if isinstance(exc, TwilioRestException):
        who = "TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN" if exc.status in (401, 403) else "Twilio"
        return f"{who}: HTTP {exc.status} error: {exc.msg}"
    if isinstance(exc, TwilioException):
        return f"Twilio: {str(exc).strip().splitlines()[0]}"
    return _unreachable("TWILIO_API_URL", settings.twilio_api_url, exc)
