"""The architecture is a test: the layers of DESIGN.md, read from the import graph
(grimp). Entry points → edges → domain → delivery → store → shared foundations →
models; a higher layer may import a lower one, never the reverse. Inside the domain the
assistant (`ai`) uses conversations (`threading`); conversations never know the assistant."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections import defaultdict
from functools import cache
from pathlib import Path

import grimp
import pytest

import bridge

ENTRY = ("__main__", "cli", "checks", "connect", "sandbox", "supervisor", "app", "preflight")
EDGES = ("slack", "sms", "ops", "notify")
DOMAIN = ("threading", "ai", "compliance", "campaigns")
FOUNDATION = (
    "config",
    "notification_settings",
    "metrics",
    "logs",
    "jobs",
    "text",
    "templates",
    "phones",
    "setting_errors",
    "routing_settings",
    "service_errors",
    "console_marks",
    "sender_settings",
    "campaign_settings",
    "availability_settings",
    "section",
    "remembered",
    "notification_settings",
)
LAYERS = (
    grimp.Layer("__main__"),
    grimp.Layer("cli"),
    grimp.Layer("checks", "connect", "sandbox", "supervisor", independent=False),
    grimp.Layer("app"),
    grimp.Layer("preflight"),
    grimp.Layer(*EDGES, independent=False),
    grimp.Layer("ai"),
    grimp.Layer("threading", "compliance", "campaigns", independent=False),
    grimp.Layer("delivery"),
    grimp.Layer("store"),
    grimp.Layer(*FOUNDATION, independent=False),
    grimp.Layer("events"),
    grimp.Layer("models"),
)
# The campaigns' models are shared like `models` (the store keeps them), inside the
# domain package whose desk and pump use them: only those imports may go down to it.
CAMPAIGN_MODELS = "bridge.campaigns.models"
# Slack's markup in a string: a mention, a channel link, a special token, bold text.
SLACK_MARKUP = re.compile(r"<[@#!]|(?<![*\w])\*[^*\s][^*\n]*(?<!\s)\*(?![*\w])")
# The `/sms` grammar reads Slack's text of a command (a mention arrives as <@U…>), and the
# declarations give examples of it.
READS_SLACK_INPUT = {"threading/commands/grammar.py", "threading/commands/conversation.py"}


@cache
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("bridge")


def _in(package: str) -> set[str]:
    return {m for m in graph().modules if m == package or m.startswith(package + ".")}


def test_every_package_has_a_layer() -> None:
    placed = {f"bridge.{name}" for name in (*ENTRY, *EDGES, *DOMAIN, *FOUNDATION)}
    placed |= {"bridge", "bridge.delivery", "bridge.store", "bridge.events", "bridge.models"}
    top_level = {".".join(m.split(".")[:2]) for m in graph().modules}
    assert top_level - placed == set()


def test_no_layer_imports_a_layer_above_it() -> None:
    illegal = graph().find_illegal_dependencies_for_layers(layers=LAYERS, containers={"bridge"})
    assert [
        f"{d.importer} → {d.imported}"
        for d in illegal
        if any(r.middle or set(r.tails) != {CAMPAIGN_MODELS} for r in d.routes)
    ] == []


def test_the_campaign_models_import_only_the_models() -> None:
    assert graph().find_modules_directly_imported_by(CAMPAIGN_MODELS) == {"bridge.models"}


def test_models_import_nothing_of_the_project() -> None:
    assert graph().find_modules_directly_imported_by("bridge.models") == set()


def test_only_the_cli_starts_the_sandbox() -> None:
    importers = set()
    for module in _in("bridge.sandbox"):
        importers |= graph().find_modules_that_directly_import(module)
    assert importers - _in("bridge.sandbox") == {"bridge.cli"}


@pytest.mark.parametrize("edge", ["bridge.slack", "bridge.sms", "bridge.notify", "bridge.sandbox"])
def test_the_domain_never_imports_an_edge(edge: str) -> None:
    for package in DOMAIN:
        assert not graph().chain_exists(f"bridge.{package}", edge, as_packages=True)


# The composition root (app.py and each edge's wiring), the entry points and the store
# itself see the whole port; every other module takes the roles it uses
# (`ConversationStore`, `JobStore`, …).
WIRING = {"bridge.slack.wiring", "bridge.sms.wiring", "bridge.notify.wiring"}
WHOLE_STORE = {"bridge.app", "bridge.cli", "bridge.checks", *WIRING}


def test_consumers_take_store_roles_not_the_whole_port() -> None:
    taking_all = {
        importer
        for importer in graph().find_modules_that_directly_import("bridge.store.base")
        if not importer.startswith(("bridge.store", "bridge.sandbox"))
        and any(
            "Store" in (d["line_contents"].split(" import ", 1)[1].replace(",", " ").split())
            for d in graph().get_import_details(importer=importer, imported="bridge.store.base")
        )
    }
    assert taking_all <= WHOLE_STORE


def test_the_conversations_package_never_imports_the_standard_threading() -> None:
    # Inside `bridge.threading` a plain `import threading` would be the standard
    # library's: a confusing name clash, and threads have no place on the event loop.
    package = Path(__file__).parents[2] / "bridge" / "threading"
    importing = []
    for source in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            if any(n == "threading" or n.startswith("threading.") for n in names):
                importing.append(source.name)
    assert importing == []
    assert "standard library" in (package / "__init__.py").read_text()


# The offline engine's jobs, each a module that uses only the ones below it.
OFFLINE_JOBS = (
    grimp.Layer("engine"),
    grimp.Layer("index", "rules"),
    grimp.Layer("speller", "thesaurus"),
    "text",
)


def test_the_offline_engine_is_one_module_per_job() -> None:
    jobs = {
        f"bridge.ai.offline.{job}"
        for job in ("text", "speller", "thesaurus", "index", "rules", "engine")
    }
    assert jobs | {"bridge.ai.offline"} == _in("bridge.ai.offline")
    illegal = graph().find_illegal_dependencies_for_layers(
        layers=OFFLINE_JOBS, containers={"bridge.ai.offline"}
    )
    assert [f"{d.importer} → {d.imported}" for d in illegal] == []


def test_the_desk_guards_every_engine_with_neutral_signals() -> None:
    assert "bridge.ai.signals" in graph().find_modules_directly_imported_by("bridge.ai.draft_desk")
    used = graph().find_upstream_modules("bridge.ai.signals")
    assert used & (_in("bridge.ai.offline") | _in("bridge.ai.engines")) == set()


# Inside `ai/`: what runs the assistant, over the engines (which never import each
# other), over what every engine shares.
AI_ROOMS = (
    grimp.Layer(
        "draft_desk",
        "draft_decisions",
        "kb_reload",
        "auto_reply",
        "budget",
        "appointment_webhook",
        "learning_desk",
        independent=False,
    ),
    grimp.Layer("offline", "engines"),
    grimp.Layer("availability"),
    grimp.Layer(
        "signals",
        "tools",
        "drafter",
        "knowledge",
        "learned_file",
        "knowledge_synonyms",
        "shorthand",
        independent=False,
    ),
)


def test_every_ai_module_has_a_room() -> None:
    rooms = {name for layer in AI_ROOMS for name in layer.module_tails}
    assert {m.split(".")[2] for m in _in("bridge.ai") if m != "bridge.ai"} == rooms


def test_ai_rooms_import_downwards_only() -> None:
    illegal = graph().find_illegal_dependencies_for_layers(
        layers=AI_ROOMS, containers={"bridge.ai"}
    )
    assert [f"{d.importer} → {d.imported}" for d in illegal] == []


def _classes() -> dict[str, list[str]]:
    """Class name → the modules defining a class of that name, over all of `bridge/`."""
    root = Path(__file__).resolve().parents[2] / "bridge"
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        module = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                found[node.name].append(module.removesuffix(".__init__"))
    return found


# One idiom, private to each module that uses it: the store roles that module takes.
LOCAL_IDIOMS = {"_Store"}


def test_no_two_classes_share_a_name() -> None:
    shared = {name for name, modules in _classes().items() if len(modules) > 1} - LOCAL_IDIOMS
    assert shared == set()


def test_a_desk_lives_in_the_module_of_its_name() -> None:
    misplaced = set()
    for name, modules in _classes().items():
        if name.endswith("Desk"):
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
            # Or `desk` in the package of its subject: `campaigns/desk.py: CampaignDesk`.
            packaged = f"{snake.rsplit('_', 1)[0]}s.desk"
            misplaced |= {
                f"{m}.{name}"
                for m in modules
                if m.rsplit(".", 1)[-1] != snake and not m.endswith(f".{packaged}")
            }
    assert misplaced == set()


def test_slack_formatting_lives_in_the_slack_edge() -> None:
    assert "bridge.slack.blocks.mrkdwn" in graph().modules
    assert "bridge.mrkdwn" not in graph().modules
    for package in DOMAIN:
        assert not graph().chain_exists(f"bridge.{package}", "bridge.slack.blocks.mrkdwn")


def _writes(token: tokenize.TokenInfo) -> bool:
    """A string the code may write out: not a pattern (raw) nor a docstring."""
    prefix = token.string[: token.string.index(token.string[-1])].lower()
    return "r" not in prefix and not token.string.endswith(('"""', "'''"))


def _slack_markup(path: Path) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    return [
        f"{path.name}:{token.start[0]}: {token.string}"
        for token in tokens
        if token.type == tokenize.STRING and _writes(token) and SLACK_MARKUP.search(token.string)
    ]


def test_the_domain_writes_no_slack_markup() -> None:
    """The domain speaks in events and outcomes; `slack/` renders them."""
    root = Path(bridge.__file__).parent
    found = [
        hit
        for package in DOMAIN
        for path in sorted((root / package).rglob("*.py"))
        if path.relative_to(root).as_posix() not in READS_SLACK_INPUT
        for hit in _slack_markup(path)
    ]
    assert found == []


# A few of Twilio's error codes (bridge/sms/send_failures.py has them all).
TWILIO_CODES = {21211, 21610, 30003, 30007}
SPEAK_TWILIO = ("sms/", "sandbox/")  # the edge, and the emulator that plays Twilio


def test_only_the_twilio_edge_knows_its_error_codes() -> None:
    """The domain decides on a `SendFailure`; which code made it is Twilio's business."""
    root = Path(bridge.__file__).parent
    found = [
        f"{path.relative_to(root)}:{token.start[0]}"
        for path in sorted(root.rglob("*.py"))
        if not path.relative_to(root).as_posix().startswith(SPEAK_TWILIO)
        for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
        if token.type == tokenize.NUMBER
        and token.string.isdigit()
        and int(token.string) in TWILIO_CODES
    ]
    assert found == []


# The Slack edge's rooms: Bolt listeners over the outbox handlers that call Slack over
# what renders Block Kit and text. What the whole edge shares sits at `slack/` top.
SLACK_ROOMS = (grimp.Layer("listeners"), grimp.Layer("jobs"), grimp.Layer("blocks"))
SLACK_SHARED = {"wiring", "gateway", "posts", "threads", "carried", "access", "members", "names"}


def test_every_slack_module_is_in_a_room_or_shared() -> None:
    rooms = {tail for layer in SLACK_ROOMS for tail in layer.module_tails}
    homeless = {
        module
        for module in _in("bridge.slack") - {"bridge.slack"}
        if module.split(".")[2] not in rooms | SLACK_SHARED
    }
    assert homeless == set()


def test_slack_rooms_import_downwards_only() -> None:
    illegal = graph().find_illegal_dependencies_for_layers(
        layers=SLACK_ROOMS, containers={"bridge.slack"}
    )
    assert [f"{d.importer} → {d.imported}" for d in illegal] == []


# Each store engine is a package: one module per role of `bridge/store/base.py`, named
# for it, plus what the role modules share. A role's methods live in its module.
ROLE_MODULES = {
    "StoreHealth": "connection",
    "PublishingStore": "connection",
    "ConversationStore": "conversations",
    "MessageStore": "messages",
    "DraftStore": "drafts",
    "ReplyStore": "replies",
    "ConsentStore": "consent",
    "ContactStore": "contacts",
    "CannedStore": "canned",
    "HomeFilterStore": "home_filters",
    "AwayStore": "away",
    "AnswerStore": "answers",
    "FeedbackStore": "feedback",
    "NotificationStore": "notifications",
    "PreferenceStore": "preferences",
    "RoutingStore": "routing",
    "PushSubscriptionStore": "push_subscriptions",
    "PostStore": "posts",
    "JobStore": "jobs",
    "UsageStore": "usage",
    "PaceStore": "pace",
    "BurstStore": "bursts",
    "SlaStore": "sla",
    "CampaignStore": "campaigns",
    "LessonStore": "lessons",
    "DraftTallyStore": "draft_tallies",
}
ENGINE_SHARED = {
    "sqlite": {"schema", "rows", "turns"},  # migrations; row ↔ model; the writers' turns
    "mongo": {"indexes", "documents"},  # indexes and backfills; document ↔ model
}
MAX_STORE_MODULE_LINES = 400


def _store_roles() -> dict[str, set[str]]:
    """Role protocol → the names it declares, read from base.py."""
    tree = ast.parse((Path(bridge.__file__).parent / "store" / "base.py").read_text())
    return {
        node.name: {
            item.name
            for item in node.body
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        and any(isinstance(b, ast.Name) and b.id == "Protocol" for b in node.bases)
        and node.name != "Store"
    }


def _defined(path: Path) -> set[str]:
    return {
        item.name
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef)
        for item in node.body
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def test_every_store_role_has_a_module_name() -> None:
    assert set(_store_roles()) == set(ROLE_MODULES)


@pytest.mark.parametrize("engine", sorted(ENGINE_SHARED))
def test_each_engine_is_one_module_per_role(engine: str) -> None:
    package = Path(bridge.__file__).parent / "store" / engine
    assert package.is_dir(), f"bridge/store/{engine} is a package"
    modules = {path.stem for path in package.glob("*.py")} - {"__init__"}
    assert modules == set(ROLE_MODULES.values()) | ENGINE_SHARED[engine]
    for role, names in _store_roles().items():
        module = package / f"{ROLE_MODULES[role]}.py"
        assert names - _defined(module) == set(), f"{engine}: {role} in {module.name}"
    too_long = {
        path.name: lines
        for path in package.glob("*.py")
        if (lines := len(path.read_text().splitlines())) > MAX_STORE_MODULE_LINES
    }
    assert too_long == {}
