"""The demo's sample data, shipped in `bridge/sandbox/sample/`: the bakery's business
configuration and knowledge base, the people of the demo and the scenarios."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bridge.sandbox.demo_clock import WeekTime

SAMPLE_DIR = Path(__file__).with_name("sample")
SAMPLE_PHOTO = SAMPLE_DIR / "croissant.jpg"  # what the phones send as an MMS


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Agent(_Data):
    id: str = Field(pattern=r"^U[A-Z0-9]{2,}$")
    name: str
    real_name: str
    display_name: str = ""


class Subscriber(_Data):
    phone: str = Field(pattern=r"^(whatsapp:)?\+[1-9]\d{6,14}$")  # whatsapp: on WhatsApp
    name: str = ""
    tags: tuple[str, ...] = ()  # the contact's tags: campaigns choose their audience by them


class OpeningText(_Data):
    phone: str
    text: str


class People(_Data):
    agents: list[Agent] = Field(min_length=1)
    subscribers: list[Subscriber] = Field(default_factory=list)
    opening_text: OpeningText | None = None


class TextStep(_Data):
    phone: str
    body: str


class ReplyStep(_Data):
    agent: str
    phone: str
    body: str


class SendStep(_Data):
    """An agent clicks Send on the newest draft in that phone's thread."""

    agent: str
    phone: str


class CampaignStep(_Data):
    """An agent types `/sms campaign` and fills its dialog in: a poll to the contacts
    with any of `tags`, sent now."""

    agent: str
    name: str
    kind: Literal["marketing", "support"] = "support"
    tags: str
    text: str
    options: str  # one a line, as typed in the dialog ("A: Mango")


class CloseStep(_Data):
    """An agent types `/sms campaign close` for the named campaign: its answers end now
    (the demo cannot wait its hours)."""

    agent: str
    campaign: str


class Step(_Data):
    """Exactly one of: a phone texts, an agent replies in its thread, an agent sends the
    assistant's draft, an agent starts a campaign, a campaign's answers close, a pause."""

    text: TextStep | None = None
    reply: ReplyStep | None = None
    send: SendStep | None = None
    campaign: CampaignStep | None = None
    close: CloseStep | None = None
    wait: float | None = Field(default=None, ge=0, le=30)

    @model_validator(mode="after")
    def _one(self) -> Step:
        parts = (self.text, self.reply, self.send, self.campaign, self.close, self.wait)
        if sum(part is not None for part in parts) != 1:
            raise ValueError("a step is one of text, reply, send, campaign, close or wait")
        return self


class Scenario(_Data):
    id: str
    title: str
    # The day and hour at the business while it plays ("fri 21:30"); None: the clock as is.
    at: WeekTime | None = None
    steps: list[Step] = Field(min_length=1)

    @field_validator("at", mode="before")
    @classmethod
    def _week_time(cls, value: object) -> object:
        return WeekTime.parse(value) if isinstance(value, str) else value


def _read(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_people(path: Path = SAMPLE_DIR / "people.yml") -> People:
    return People.model_validate(_read(path))


def load_scenarios(path: Path = SAMPLE_DIR / "scenarios.yml") -> list[Scenario]:
    raw = _read(path) or []
    return [Scenario.model_validate(entry) for entry in raw]


def write_business_config(
    target: Path,
    source: Path = SAMPLE_DIR / "business.yml",
    *,
    smtp_url: str | None = None,
    webhook_url: str | None = None,
) -> Path:
    """Copy the sample business configuration to `target` with its knowledge-base path
    made absolute (the bridge reads the copy exactly as `serve` reads BRIDGE_CONFIG), its
    notification email sent to `smtp_url` (the demo's own mail server) and its webhooks
    to `webhook_url` (the demo's own receiver).

    The sample's knowledge folder is copied beside `target` (the demo learns into the
    copy); one that is not installed is dropped rather than failing the demo."""
    raw = _read(source) or {}
    notifications = raw.get("notifications")
    email = notifications.get("email") if isinstance(notifications, dict) else None
    if smtp_url is not None and isinstance(email, dict):
        email["smtp_url"] = smtp_url
    hooks = notifications.get("webhooks") if isinstance(notifications, dict) else None
    for hook in hooks if webhook_url is not None and isinstance(hooks, list) else []:
        if isinstance(hook, dict):
            hook["url"] = f"{webhook_url}/{hook.get('name')}"
    knowledge = raw.get("knowledge")
    if isinstance(knowledge, dict) and knowledge.get("path"):
        folder = (source.parent / str(knowledge["path"])).resolve()
        if folder.is_dir() and source.parent == SAMPLE_DIR:
            # The sample's own copy: what the demo's admins approve goes to its
            # learned.yml, never into the installed package.
            knowledge["path"] = str(shutil.copytree(folder, target.parent / folder.name))
        elif folder.is_dir() or source.parent != SAMPLE_DIR:
            knowledge["path"] = str(folder)  # yours: a missing folder is an error to see
            # The copy is elsewhere; the original's folder is the one to stay inside.
            if folder.is_relative_to(source.parent.resolve()):
                knowledge["allow_outside"] = True
        else:
            del knowledge["path"]
    target.write_text(
        f"# A copy of {source} for this demo run.\n"
        + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    return target


def webhook_secrets(config: Path) -> dict[str, str]:
    """Each webhook's secret in a business configuration, by name: the demo's receiver
    checks the signatures with them."""
    raw = _read(config) or {}
    notifications = raw.get("notifications")
    hooks = notifications.get("webhooks") if isinstance(notifications, dict) else None
    return {
        str(hook.get("name")): str(hook.get("secret"))
        for hook in (hooks if isinstance(hooks, list) else [])
        if isinstance(hook, dict)
    }
