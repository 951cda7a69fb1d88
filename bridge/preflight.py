"""What `serve` validates before it starts, and `check` reports: the settings, the
business configuration and its knowledge base. Every problem is collected, one line
each naming its setting, so an operator fixes them in one go."""

from __future__ import annotations

from pathlib import Path

from bridge.ai.knowledge import KnowledgeError, knowledge_source
from bridge.config import (
    BusinessConfig,
    ConfigError,
    Settings,
    config_path,
    load_business_config,
    load_settings,
)
from bridge.slack.listeners.reactions import mark_clash
from bridge.threading.commands.table import unknown


def knowledge_problem(exc: KnowledgeError) -> str:
    return f"knowledge.path in BRIDGE_CONFIG: {exc}"


def admin_problem(names: list[str] | None) -> str | None:
    strangers = unknown(names or [])
    if not strangers:
        return None
    return (
        f"slack.admin_actions in BRIDGE_CONFIG: {strangers[0]!r} is not a /sms command;"
        ' use the names `/sms help` lists, like "canned add" or "kb reload"'
    )


def validate_business(path: Path | None) -> BusinessConfig:
    """The business configuration at `path` with its knowledge base loaded once, as
    `serve` loads it; ConfigError lists every problem."""
    config = load_business_config(path)
    problems = [mark_clash(config.slack.reactions), admin_problem(config.slack.admin_actions)]
    if config.ai.enabled:  # the bridge reads the knowledge base only for the assistant
        try:
            knowledge_source(config).load()
        except KnowledgeError as exc:
            problems.append(knowledge_problem(exc))
    found = [problem for problem in problems if problem is not None]
    if found:
        raise ConfigError(*found)
    return config


def validate() -> tuple[Settings, BusinessConfig]:
    """Everything `serve` needs before it opens the store; ConfigError lists every
    problem, of the settings and of the business configuration together."""
    problems: list[str] = []
    settings: Settings | None = None
    config: BusinessConfig | None = None
    try:
        settings = load_settings()
    except ConfigError as exc:
        problems.extend(exc.problems)
    try:
        config = validate_business(settings.bridge_config if settings else config_path())
    except ConfigError as exc:
        problems.extend(exc.problems)
    if settings is None or config is None:
        raise ConfigError(*problems)
    return settings, config
