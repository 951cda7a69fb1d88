"""Settings from the environment (+ `.env`) and the YAML business configuration.

Both fail with `ConfigError`, which lists every problem found, one line each naming the
setting, so the CLI can print them and exit 2 instead of showing a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BeforeValidator,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pymongo.errors import PyMongoError

# The parser AsyncMongoClient itself runs; the public parse_uri would also look a
# mongodb+srv:// name up in DNS, which is the connection's business, not validation's.
from pymongo.uri_parser_shared import _validate_uri

from bridge.availability_settings import AvailabilityTool
from bridge.campaign_settings import CampaignsSection
from bridge.notification_settings import NotificationsSection
from bridge.phones import InvalidPhone, to_e164
from bridge.routing_settings import RoutingSection
from bridge.section import Section
from bridge.setting_errors import describe
from bridge.templates import placeholders


class ConfigError(Exception):
    """Settings an operator must fix: one line per problem, each naming its setting.
    `str()` is the first problem."""

    def __init__(self, *problems: str) -> None:
        super().__init__(problems[0])
        self.problems = problems


def _http_url(value: str) -> str:
    """The value, if it is an absolute http(s) URL."""
    try:
        AnyHttpUrl(value)
    except ValidationError:
        raise ValueError("must be a URL like https://example.com") from None
    return value


def _base_url(value: str) -> str:
    """An http(s) URL kept as text without a trailing slash, ready to append paths to."""
    return _http_url(value).rstrip("/")


BaseUrl = Annotated[str, AfterValidator(_base_url)]


def _public_url(value: str) -> str:
    if not value.lower().startswith("https://"):
        raise ValueError(
            "must start with https:// (Twilio and Slack call the bridge at this address;"
            " put it behind a TLS proxy or tunnel)"
        )
    return value


PublicUrl = Annotated[BaseUrl, AfterValidator(_public_url)]


def _from_number(value: str) -> str:
    """The same key as the `To` of inbound texts, so consent and threads match."""
    try:
        number = to_e164(value)
    except InvalidPhone as exc:
        raise ValueError(str(exc)) from None
    # A national form ("555-1234") guesses the country; only short codes have no `+`.
    if number.startswith("+") and not value.strip().startswith("+"):
        raise ValueError(
            f"{value!r} is not in E.164 form: write it with + and the country code, as"
            " Twilio shows it (+14155550100), or a short code's digits"
        )
    return number


FromNumber = Annotated[str, AfterValidator(_from_number)]


def _whatsapp_numbers(value: object) -> list[str]:
    """`+14155550100,+14155550101` (Twilio's `whatsapp:` form is taken too)."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(part, str) for part in value):
        raise ValueError("a comma-separated list of numbers, like +14155550100,+14155550101")
    parts = (part.strip().removeprefix("whatsapp:") for part in value)
    return [_from_number(part) for part in parts if part]


# A list from one environment variable, comma-separated (not the JSON pydantic expects).
WhatsAppNumbers = Annotated[list[str], NoDecode, BeforeValidator(_whatsapp_numbers)]


def _mongodb_uri(value: SecretStr) -> SecretStr:
    uri = value.get_secret_value()
    if not uri.startswith(("mongodb://", "mongodb+srv://")):
        raise ValueError("must start with mongodb:// or mongodb+srv://")
    try:
        _validate_uri(uri)
    except (PyMongoError, ValueError) as exc:
        reason = str(exc)
        userinfo = uri.split("://", 1)[1].rpartition("@")[0]
        if userinfo:  # the driver's words never carry the password out
            reason = reason.replace(userinfo, "…")
        raise ValueError(f"not a valid MongoDB URI: {reason}") from None
    return value


MongoUri = Annotated[SecretStr, AfterValidator(_mongodb_uri)]

ENV_CONFIG = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)


class StoreSettings(BaseSettings):
    """What the store-only commands (consent export, contacts import) need."""

    model_config = ENV_CONFIG

    mongodb_uri: MongoUri | None = None
    bridge_db_path: Path = Path("bridge.db")
    # Optional here: contacts import keeps marketing consent per business number.
    twilio_from_number: FromNumber | None = None


class Settings(StoreSettings):
    """Every environment variable `serve` reads, named as the README lists them."""

    slack_bot_token: SecretStr
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_inbox_channel: str
    slack_api_url: BaseUrl = "https://slack.com/api"
    twilio_account_sid: str
    twilio_auth_token: SecretStr
    twilio_messaging_service_sid: str | None = None
    # The business numbers that are WhatsApp senders too (`check` and `connect` look
    # after them). Replies follow the channel a subscriber wrote on, listed or not.
    twilio_whatsapp_numbers: WhatsAppNumbers = Field(default_factory=list)
    twilio_api_url: BaseUrl = "https://api.twilio.com"
    bridge_public_url: PublicUrl
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: BaseUrl | None = None  # the SDK's default when unset
    bridge_config: Path | None = None
    bridge_host: str = "0.0.0.0"  # noqa: S104 - a server is meant to listen on all interfaces
    port: int = Field(default=3000, ge=1, le=65535)
    # Tuning (added by the core issue; safe defaults for one long code and one channel)
    bridge_log_level: Literal["debug", "info", "warning", "error"] = "info"
    bridge_workers: int = Field(default=8, ge=1, le=256)
    bridge_job_lease_seconds: float = Field(default=30, ge=1)
    bridge_slack_post_rate: float = Field(default=0.95, gt=0)  # under Slack's 1/s: see README
    bridge_slack_post_burst: int = Field(default=4, ge=1)
    # Texts per second per sender: 1 suits a US long code; toll-free 3, short codes 100.
    bridge_sms_rate: float = Field(default=1.0, gt=0)
    bridge_shared_pacing: bool = False  # rates kept in the store, for several processes
    # How long a thread post whose answer was lost waits for Slack's echo of it before
    # it is taken as not posted: Slack retries an undelivered event for about 6 minutes.
    bridge_slack_echo_wait_seconds: float = Field(default=400, ge=0)
    # conversations.history reads a minute: a workspace's own app (what the README's
    # setup makes) keeps Tier 3, about 50; one distributed outside Slack's Marketplace 1.
    bridge_slack_history_per_minute: float = Field(default=50, gt=0)

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("slack_inbox_channel")
    @classmethod
    def _channel_id(cls, value: str) -> str:
        if not re.fullmatch(r"[CG][A-Z0-9]{2,}", value):
            raise ValueError("must be a channel ID like C0123456789, not a channel name")
        return value

    @field_validator("twilio_account_sid")
    @classmethod
    def _account_sid(cls, value: str) -> str:
        if not re.fullmatch(r"AC[0-9a-fA-F]{32}", value):
            raise ValueError("must be an Account SID: AC followed by 32 hex digits")
        return value

    @model_validator(mode="after")
    def _modes(self) -> Self:
        if self.slack_app_token is None and self.slack_signing_secret is None:
            raise ValueError(
                "SLACK_SIGNING_SECRET: required in HTTP mode (set it, or SLACK_APP_TOKEN"
                " for Socket Mode)"
            )
        if not (self.twilio_from_number or self.twilio_messaging_service_sid):
            raise ValueError("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID: one is required")
        return self


S = TypeVar("S", bound=StoreSettings)


def load_settings(**overrides: Any) -> Settings:
    """From the environment, `.env` and `overrides`; ConfigError lists every problem."""
    return _load(Settings, overrides)


def load_store_settings() -> StoreSettings:
    return _load(StoreSettings, {})


def _load(model: type[S], overrides: dict[str, Any]) -> S:
    try:
        return model(**overrides)
    except ValidationError as exc:
        raise ConfigError(*describe(exc, env=True)) from None


class _ConfigPath(BaseSettings):
    model_config = ENV_CONFIG

    bridge_config: Path | None = None


def config_path() -> Path | None:
    """BRIDGE_CONFIG alone: the business configuration can be checked even when other
    settings are wrong."""
    return _ConfigPath().bridge_config


# --- the YAML business configuration ---------------------------------------------------


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def expand_days(spec: str) -> list[str]:
    """ "mon-fri" → the days it covers (ranges may wrap: "fri-mon")."""
    parts = [p for p in spec.lower().split("-") if p in DAYS]
    if len(parts) == 2:
        start, end = DAYS.index(parts[0]), DAYS.index(parts[1])
        return [DAYS[(start + i) % 7] for i in range((end - start) % 7 + 1)]
    return parts


def _parse_hours(value: str) -> tuple[time, time]:
    match = re.fullmatch(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})", value.strip())
    if not match:
        raise ValueError(f"{value!r} is not HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    return time(h1, m1), time(h2, m2)


def _zone(value: str | None) -> str | None:
    if value is None:
        return value
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


def _week(value: dict[str, str] | None) -> dict[str, str] | None:
    for days, span in (value or {}).items():
        for day in days.split("-"):
            if day not in DAYS:
                raise ValueError(f"{days!r}: days are {', '.join(DAYS)} or ranges like mon-fri")
        _parse_hours(span)
    return value


def _country(value: str | None) -> str | None:
    """ "US", or a subdivision "US-CA": the `holidays` package must know it."""
    if value is None:
        return value
    import holidays

    country, _, subdivision = value.partition("-")
    try:
        holidays.country_holidays(country.upper(), subdiv=subdivision.upper() or None)
    except NotImplementedError:
        raise ValueError(
            f"{value!r} is not a country code the holidays package knows (like US or US-CA)"
        ) from None
    return value.upper()


Zone = Annotated[str, AfterValidator(_zone)]
Week = Annotated[dict[str, str], AfterValidator(_week)]
HolidayCountry = Annotated[str, AfterValidator(_country)]


@dataclass(frozen=True)
class Schedule:
    """The opening hours that hold for one business number."""

    timezone: str
    hours: tuple[tuple[str, str], ...]
    holidays: frozenset[str]  # ISO dates
    holidays_country: str | None

    def spans(self, day: str) -> list[tuple[time, time]]:
        return [_parse_hours(span) for days, span in self.hours if day in expand_days(days)]


class NumberHours(Section):
    """Overrides for one business number; what is unset is the business's."""

    timezone: Zone | None = None
    hours: Week | None = None
    holidays: list[str] | None = None
    holidays_country: HolidayCountry | None = None


class Business(Section):
    name: str = "Our business"
    contact: str = ""
    timezone: Zone = "UTC"
    hours: Week = Field(default_factory=dict)
    holidays: list[str] = Field(default_factory=list)
    # Public holidays of this country ("US") or subdivision ("US-CA") are closed too.
    holidays_country: HolidayCountry | None = None
    numbers: dict[str, NumberHours] = Field(default_factory=dict)

    @field_validator("numbers")
    @classmethod
    def _numbers(cls, value: dict[str, NumberHours]) -> dict[str, NumberHours]:
        try:
            return {to_e164(number): policy for number, policy in value.items()}
        except InvalidPhone as exc:
            raise ValueError(str(exc)) from None

    def schedule(self, business_number: str | None) -> Schedule:
        """The hours of `business_number`: its overrides over the business's."""
        own = self.numbers.get(business_number or "") or NumberHours()
        hours = self.hours if own.hours is None else own.hours
        holidays = self.holidays if own.holidays is None else own.holidays
        country = own.holidays_country or self.holidays_country
        return Schedule(
            own.timezone or self.timezone, tuple(hours.items()), frozenset(holidays), country
        )

    def seen_at(self, at: datetime) -> datetime:
        """The moment the hours are read at: `at` (the demo moves its business's clock)."""
        return at


class KeywordLists(Section):
    """Each list given replaces the default one."""

    opt_out: list[str] | None = None
    opt_in: list[str] | None = None
    help: list[str] | None = None


KeywordClass = Literal["opt_out", "opt_in", "help"]


def _provider_default() -> list[KeywordClass]:
    # Twilio answers STOP and START itself on long codes and toll-free numbers.
    return ["opt_out", "opt_in"]


TEMPLATE_FIELDS = ("business_name", "business_contact", "business_hours")


def _template_of(value: str, fields: tuple[str, ...]) -> str:
    """`value`, if its placeholders are all among `fields`."""
    unknown = [name for name in placeholders(value) if name not in fields]
    if unknown:
        raise ValueError(
            f"bad placeholder {{{unknown[0]}}}; use " + ", ".join("{" + f + "}" for f in fields)
        )
    return value


AWAY_FIELDS = ("next_open", "business_name", "response_time")


class HoursSection(Section):
    """What the bridge does while the business is closed."""

    # Texted once per subscriber per closed period; unset: no away reply.
    away_reply: str | None = None
    # Instead, while `/sms away` is on with no end: no opening to promise.
    away_reply_open_ended: str = (
        "{business_name} is closed for now. We will reply as soon as we are back."
    )
    # "We reply by …" is the next opening plus this.
    response_minutes: int = Field(default=120, ge=0, le=7 * 24 * 60)

    @field_validator("away_reply")
    @classmethod
    def _away(cls, value: str | None) -> str | None:
        return None if value is None else _template_of(value, AWAY_FIELDS)

    @field_validator("away_reply_open_ended")
    @classmethod
    def _open_ended(cls, value: str) -> str:
        return _template_of(value, ("business_name",))


class NumberCompliance(Section):
    """Overrides for one business number (a short code, a toll-free number, …)."""

    provider_answers: list[KeywordClass] | None = None
    keywords: KeywordLists | None = None
    revocation_phrases: list[str] | None = None


class Compliance(Section):
    # Keyword classes the provider already answers with its own text: the bridge then
    # sends nothing, since a second text would annoy and fail with 21610.
    provider_answers: list[KeywordClass] = Field(default_factory=_provider_default)
    help_reply: str = (
        "{business_name}: {business_contact}. Hours: {business_hours}. "
        "Msg & data rates may apply. Reply STOP to opt out."
    )
    opt_out_confirmation: str = (
        "{business_name}: you are unsubscribed and will get no more texts from us. "
        "Reply START to rejoin."
    )
    opt_in_confirmation: str = "{business_name}: you are subscribed again. Reply STOP to opt out."
    keywords: KeywordLists = Field(default_factory=KeywordLists)
    # Plain-language revocations that opt out like a keyword (replaces the defaults).
    revocation_phrases: list[str] | None = None
    numbers: dict[str, NumberCompliance] = Field(default_factory=dict)
    # Regular expressions that make an agent's reply promotional (replace the defaults).
    promo_patterns: list[str] | None = None

    @field_validator("promo_patterns")
    @classmethod
    def _patterns(cls, value: list[str] | None) -> list[str] | None:
        for pattern in value or ():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return value

    @field_validator("help_reply", "opt_out_confirmation", "opt_in_confirmation")
    @classmethod
    def _template(cls, value: str) -> str:
        return _template_of(value, TEMPLATE_FIELDS)

    @field_validator("numbers")
    @classmethod
    def _numbers(cls, value: dict[str, NumberCompliance]) -> dict[str, NumberCompliance]:
        try:
            return {to_e164(number): policy for number, policy in value.items()}
        except InvalidPhone as exc:
            raise ValueError(str(exc)) from None


REACTION_ACTIONS = ("resolve", "flag", "assign_me", "seen")


class SlackSection(Section):
    note_prefix: str = "note:"
    undo_seconds: float = Field(default=5, ge=0, le=60)
    # Swap look-alikes Slack clients type (’ “ — …) for GSM-7 ones before sending.
    smart_encoding: bool = True
    reactions: dict[str, str] = Field(
        default_factory=lambda: {
            "white_check_mark": "resolve",
            "triangular_flag_on_post": "flag",
            "raising_hand": "assign_me",
            "eyes": "seen",
        }
    )

    @field_validator("reactions")
    @classmethod
    def _reactions(cls, value: dict[str, str]) -> dict[str, str]:
        for emoji, action in value.items():
            if action not in REACTION_ACTIONS and not action.startswith("canned:"):
                raise ValueError(
                    f"{emoji}: {action!r} is not one of {', '.join(REACTION_ACTIONS)} "
                    "or canned:<name>"
                )
        return value

    # Besides the inbox channel's members, the members of this user group (S…) may act.
    user_group: str | None = None
    # Who may use admin-only commands; empty: every inbox member may.
    admins: list[str] = Field(default_factory=list)
    # The `/sms` commands only admins may use (names as in `/sms help`, e.g. "canned add");
    # unset: the commands declared admin-only (`canned add`, `canned remove`).
    admin_actions: list[str] | None = None
    # How stale the header card's "last activity" may get before a text refreshes it.
    # Slack shows a thread's latest reply time itself, so this trades little for
    # keeping chat.update off the per-text path.
    header_refresh_minutes: float = Field(default=15, ge=0)


class FaqEntry(Section):
    q: str
    a: str
    alt: list[str] = Field(default_factory=list)  # other ways customers ask it


class Knowledge(Section):
    path: Path | None = None
    # Unless set, the path and every file in it must resolve (links followed) inside
    # the config file's folder: a config cannot quote files from elsewhere on the host.
    allow_outside: bool = False
    faq: list[FaqEntry] = Field(default_factory=list)
    synonyms: Path | None = None  # a YAML list of synonym groups (bridge/ai/knowledge_synonyms.py)
    _folder: Path | None = PrivateAttr(default=None)

    def read_from(self, config_file: Path) -> Knowledge:
        """This section as `config_file` gives it: the path relative to that file's folder."""
        placed = self.model_copy(
            update={
                key: None if value is None else config_file.parent / value
                for key, value in (("path", self.path), ("synonyms", self.synonyms))
            }
        )
        placed._folder = config_file.parent.resolve()
        return placed

    @property
    def within(self) -> Path | None:
        """The folder the knowledge files must resolve into, or None: anywhere."""
        return None if self.allow_outside else self._folder


class AutoReply(Section):
    """When the assistant may send its draft by itself (never when it asks for a person)."""

    enabled: bool = False
    min_confidence: float = Field(default=0.85, ge=0, le=1)
    only_outside_hours: bool = True
    # A person who replied this recently is handling the conversation: no auto-reply.
    pause_after_agent_minutes: float = Field(default=30, ge=0)


class NumberAi(Section):
    """Overrides for one business number."""

    auto_reply: AutoReply | None = None


def _order_url(value: str) -> str:
    _http_url(value.replace("{order}", "0"))
    return value


class OrderStatusTool(Section):
    """The business's order endpoint: GET `url` with `{order}` replaced and `?phone=`."""

    url: Annotated[str, AfterValidator(_order_url)]
    timeout_seconds: float = Field(default=3, gt=0, le=10)
    headers: dict[str, SecretStr] = Field(default_factory=dict)  # e.g. Authorization

    @field_validator("url")
    @classmethod
    def _placeholder(cls, value: str) -> str:
        if "{order}" not in value:
            raise ValueError("must contain {order}, where the order number goes")
        return value


class AppointmentTool(Section):
    """Appointment wishes ("move me to Friday") become a card for a person, and are
    posted to `webhook_url` when one is set."""

    webhook_url: BaseUrl | None = None
    # Signs the webhook's body (X-Bridge-Signature: sha256=HMAC of the raw body).
    webhook_secret: SecretStr | None = None


class AiTools(Section):
    order_status: OrderStatusTool | None = None
    appointments: AppointmentTool | None = None
    availability: AvailabilityTool | None = None  # free times to offer (availability_settings)


DEFAULT_AI_MODEL = "claude-haiku-4-5"  # a current fast model; keep the id in config


class AiSection(Section):
    enabled: bool = True
    model: str = DEFAULT_AI_MODEL
    # How long a text may wait for its draft to be posted together with it.
    draft_wait_seconds: float = Field(default=2, ge=0, le=10)
    auto_reply: AutoReply = Field(default_factory=AutoReply)
    numbers: dict[str, NumberAi] = Field(default_factory=dict)
    max_reply_chars: int = Field(default=320, ge=40, le=1600)
    context_messages: int = Field(default=10, ge=1, le=50)
    # Claude tokens a day (cache reads count a tenth, as they are billed); past it the
    # offline engine drafts until midnight in the business's time zone. 0: never Claude.
    daily_token_budget: int = Field(default=2_000_000, ge=0)
    tools: AiTools = Field(default_factory=AiTools)

    @field_validator("numbers")
    @classmethod
    def _numbers(cls, value: dict[str, NumberAi]) -> dict[str, NumberAi]:
        try:
            return {to_e164(number): policy for number, policy in value.items()}
        except InvalidPhone as exc:
            raise ValueError(str(exc)) from None

    def auto_reply_for(self, business_number: str) -> AutoReply:
        override = self.numbers.get(business_number)
        return override.auto_reply if override and override.auto_reply else self.auto_reply


def _canned_text(value: str) -> str:
    placeholders(value)  # a TemplateError (a ValueError) names what is wrong
    return value


class BusinessConfig(Section):
    business: Business = Field(default_factory=Business)
    hours: HoursSection = Field(default_factory=HoursSection)
    compliance: Compliance = Field(default_factory=Compliance)
    slack: SlackSection = Field(default_factory=SlackSection)
    canned: dict[str, Annotated[str, Field(max_length=1600), AfterValidator(_canned_text)]] = Field(
        default_factory=dict
    )
    knowledge: Knowledge = Field(default_factory=Knowledge)
    ai: AiSection = Field(default_factory=AiSection)
    notifications: NotificationsSection = Field(default_factory=NotificationsSection)
    routing: RoutingSection = Field(default_factory=RoutingSection)
    campaigns: CampaignsSection = Field(default_factory=CampaignsSection)

    @model_validator(mode="after")
    def _teams_are_routings(self) -> Self:
        """A team that notifications name is one of routing's (each problem names its key)."""
        teams = self.routing.teams
        problems = []
        for number, rule in enumerate(self.notifications.rules):
            where = f"notifications.rules[{number}]"
            problems += [
                f"{where}.when.team: no team {name!r} in routing.teams"
                for name in rule.when.team or ()
                if name not in teams
            ]
            if "team" in rule.notify and not teams:
                problems.append(f"{where}.notify: team needs routing.teams")
        sla = self.notifications.sla
        if sla is not None and sla.escalate.route and sla.escalate.route not in teams:
            route = sla.escalate.route
            problems.append(f"notifications.sla.escalate.route: no team {route!r} in routing.teams")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def load_business_config(path: Path | None) -> BusinessConfig:
    if path is None:
        return BusinessConfig()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"BRIDGE_CONFIG: cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise ConfigError(f"BRIDGE_CONFIG: {path} is not valid YAML{line}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"BRIDGE_CONFIG: {path} must hold a mapping at the top level")
    try:
        config = BusinessConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(
            *(f"BRIDGE_CONFIG {path}: {problem}" for problem in describe(exc, env=False))
        ) from None
    # Relative to the config file, so the bridge finds it from any working folder.
    knowledge = config.knowledge.read_from(path)
    within, kb = knowledge.within, knowledge.path
    if within is not None and kb is not None and not kb.resolve().is_relative_to(within):
        raise ConfigError(
            f"BRIDGE_CONFIG {path}: knowledge.path {kb} is outside the config"
            f" file's folder {within} (links followed); move it there or set"
            " knowledge.allow_outside: true"
        )
    return config.model_copy(update={"knowledge": knowledge})
