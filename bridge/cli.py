"""The `sms-bridge` command line.

Every failure an operator can cause ends in one line on stderr, `sms-bridge: <cause>`,
naming the setting to fix, and exit status 2; never a traceback."""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import structlog
import typer
from aiohttp import web
from rich.progress import Progress

from bridge import logs
from bridge.app import build_app, make_store
from bridge.campaigns.desk import CampaignDesk
from bridge.campaigns.errors import CampaignError
from bridge.campaigns.export import write_answers_csv
from bridge.campaigns.models import Answer, Campaign, CampaignState
from bridge.campaigns.models import Progress as CampaignProgress
from bridge.campaigns.plan_words import plan_lines
from bridge.campaigns.spec_file import read_spec
from bridge.checks import run_checks
from bridge.compliance.export import write_consent_csv
from bridge.config import (
    BusinessConfig,
    ConfigError,
    Settings,
    StoreSettings,
    load_settings,
    load_store_settings,
)
from bridge.connect import ConnectFailed, connect
from bridge.console_marks import ok, out, warned
from bridge.preflight import validate, validate_business
from bridge.sender_settings import insecure_webhooks, new_vapid_keys
from bridge.store.base import Store, StoreUnavailable
from bridge.supervisor import Supervisor, follow_supervisor
from bridge.threading.contacts import import_contacts, read_contacts

T = TypeVar("T")
log = structlog.get_logger(__name__)

SETTINGS_HELP = (
    "Settings come from environment variables, or a .env file in the working directory;"
    " the README lists them."
)


def _help_when_bare(ctx: typer.Context) -> None:
    """A command group called without a command shows its help."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)


# Plain help (no Rich panels): flags show as flags, and the text reads the same in a
# terminal, a pipe or a log.
cli = typer.Typer(
    add_completion=False,
    rich_markup_mode=None,
    invoke_without_command=True,
    callback=_help_when_bare,
    help="Run your customers' SMS from Slack: one thread per phone number.",
)


def _fail(message: str) -> NoReturn:
    """One line an operator can act on, and exit 2: never a traceback."""
    typer.echo(f"sms-bridge: {message}", err=True)
    raise typer.Exit(2)


def _refuse(exc: ConfigError, more: str) -> NoReturn:
    """The first problem, and how many more there are."""
    others = len(exc.problems) - 1
    _fail(str(exc) + (f" (and {others} more problem{'s' * (others > 1)}{more})" if others else ""))


async def _with_store(settings: StoreSettings, use: Callable[[Store], Awaitable[T]]) -> T:
    """Open the configured store for one command, and close it after."""
    store = make_store(settings)
    try:
        await store.open()
    except StoreUnavailable as exc:
        _fail(str(exc))
    try:
        return await use(store)
    finally:
        await store.close()


def _validated() -> tuple[Settings, BusinessConfig]:
    try:
        return validate()
    except ConfigError as exc:
        _refuse(exc, ": `sms-bridge check` lists them all")


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        _refuse(exc, ": `sms-bridge check` lists them all")


def _store_settings() -> StoreSettings:
    try:
        return load_store_settings()
    except ConfigError as exc:
        _refuse(exc, "")


def _say_listening(settings: Settings) -> None:
    """Where the bridge listens and the URLs to give Twilio and Slack: one log line
    (JSON like every other, so log collectors keep parsing), at the default level."""
    host = settings.bridge_host
    address = f"http://{f'[{host}]' if ':' in host else host}:{settings.port}"
    public = settings.bridge_public_url
    urls = {"twilio_webhook": f"{public}/sms/inbound"}
    where = [f"Twilio webhook {urls['twilio_webhook']}"]
    if settings.slack_signing_secret is not None:
        urls["slack_request_url"] = f"{public}/slack/events"
        where.append(f"Slack Request URL {urls['slack_request_url']}")
    if settings.slack_app_token is not None:
        where.append("Slack by Socket Mode")
    log.info(f"listening on {address}; " + ", ".join(where), listen=address, **urls)


def _listen(settings: Settings, *, shared: bool = False) -> socket.socket:
    """The server's socket, bound before anything starts: a taken port is reported
    before the store opens or a worker runs. `shared`: SO_REUSEPORT, for the workers of
    `serve --processes N` on one port (the kernel spreads connections over them)."""
    host, port = settings.bridge_host, settings.port
    where = f"{host}:{port}"
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, reuse_port=shared)
    except OSError as exc:
        if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
            reason = str(exc.strerror).lower()
            _fail(f"BRIDGE_HOST: cannot listen on {where} ({reason}); use an address of this host")
        reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
        _fail(f"PORT: cannot listen on {where} ({reason}); choose another port")


MAX_PROCESSES = 64


def _supervise(settings: Settings, processes: int) -> NoReturn:
    """`serve --processes N`: the workers are `serve --worker n`, pacing through the
    store; this process only watches them."""
    _listen(settings, shared=True).close()  # a port taken by another program: said now, once
    logs.configure(settings.bridge_log_level)

    def worker(number: int) -> list[str]:
        return [sys.executable, "-m", "bridge", "serve", "--worker", str(number)]

    env = os.environ | {"BRIDGE_SHARED_PACING": "true"}
    log.info(f"starting {processes} worker processes", processes=processes)
    raise typer.Exit(asyncio.run(Supervisor(processes, worker, env).run()))


@cli.command(
    short_help="Run the bridge: Twilio and Slack webhooks, delivery workers.",
    help=f"""Run the bridge: webhooks for Twilio and Slack, and the delivery workers.

{SETTINGS_HELP} `sms-bridge check` validates them (as serve does at start) and tries
the credentials.""",
)
def serve(
    processes: Annotated[
        int,
        typer.Option(
            min=1,
            max=MAX_PROCESSES,
            help="Worker processes on the one port (SO_REUSEPORT) and the one store;"
            " with more than one, Slack's and Twilio's rates are shared through the store"
            " (BRIDGE_SHARED_PACING) and a worker that dies is started again.",
        ),
    ] = 1,
    worker: Annotated[int, typer.Option(hidden=True, min=0, max=MAX_PROCESSES)] = 0,
) -> None:
    settings, config = _validated()
    if processes > 1:
        _supervise(settings, processes)
    if worker:
        follow_supervisor()
        structlog.contextvars.bind_contextvars(worker=worker)
    listener = _listen(settings, shared=worker > 0)
    logs.configure(settings.bridge_log_level)
    try:
        web.run_app(
            build_app(settings, config),
            sock=listener,
            print=lambda _banner: _say_listening(settings),
            access_log=None,
        )
    except (ConfigError, StoreUnavailable) as exc:
        _fail(str(exc))


@cli.command(short_help="The whole product on this machine, with no accounts.")
def demo(
    port: Annotated[int, typer.Option(help="Port of the demo page.")] = 8080,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the page in a browser.")
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Your business configuration (BRIDGE_CONFIG) instead of the sample bakery's:"
            " try your knowledge base and auto-reply settings with no accounts.",
        ),
    ] = None,
) -> None:
    """The whole product locally with no accounts: phones on one side, Slack on the other."""
    from bridge.sandbox.demo import run_demo  # the sandbox is only loaded for the demo

    if config is not None:  # checked here, so the errors name your file, not the demo's copy
        try:
            validate_business(config)
        except ConfigError as exc:
            _refuse(exc, ": fix this one and run again")
    run_demo(port=port, open_browser=open_browser, config=config)


@cli.command(
    short_help="Validate the configuration, then try the store and credentials.",
    help=f"""Validate the configuration as serve does, then open the store and try
the Slack and Twilio credentials.

{SETTINGS_HELP} Every problem of the settings, the business configuration (BRIDGE_CONFIG)
and its knowledge base is listed, one line each (exit 2); a store or service that fails its
try exits 1.""",
)
def check() -> None:
    try:
        settings, config = validate()
    except ConfigError as exc:
        for problem in exc.problems:
            typer.echo(f"sms-bridge: {problem}", err=True)
        raise typer.Exit(2) from None
    ok("settings, business configuration and knowledge base are valid")
    for warning in insecure_webhooks(config.notifications.webhooks):
        warned(warning)
    if asyncio.run(run_checks(settings, config)):
        raise typer.Exit(1)


@cli.command("connect", short_help="Point a Twilio number's incoming texts at the bridge.")
def connect_command(
    number: Annotated[
        str | None,
        typer.Argument(
            help="The Twilio number; default TWILIO_FROM_NUMBER or the Messaging Service."
        ),
    ] = None,
) -> None:
    """Point a Twilio number's (or Messaging Service's) incoming texts at the bridge."""
    settings = _settings()
    try:
        asyncio.run(connect(settings, number))
    except ConnectFailed as exc:
        _fail(str(exc))


consent_cli = typer.Typer(
    invoke_without_command=True, callback=_help_when_bare, help="The consent ledger."
)
cli.add_typer(consent_cli, name="consent")


@consent_cli.command("export", short_help="Write every consent change as CSV.")
def consent_export(
    file: Annotated[
        Path | None, typer.Argument(help="CSV file to write; standard output if absent.")
    ] = None,
) -> None:
    """Write every consent change (who, what, granted or revoked, source, when) as CSV.

    Needs only the store's settings (MONGODB_URI or BRIDGE_DB_PATH)."""
    settings = _store_settings()
    events = asyncio.run(_with_store(settings, lambda store: store.consent_log()))
    if file is None:
        write_consent_csv(events, sys.stdout)
        return
    with file.open("w", newline="", encoding="utf-8") as handle:
        write_consent_csv(events, handle)
    ok(f"{len(events)} consent events written to {file}")


contacts_cli = typer.Typer(
    invoke_without_command=True,
    callback=_help_when_bare,
    help="Subscribers' names and details.",
)
cli.add_typer(contacts_cli, name="contacts")


@contacts_cli.command("import", short_help="Import contacts from a CSV file.")
def contacts_import(
    file: Annotated[Path, typer.Argument(help="CSV: phone, name, marketing_consent, fields…")],
) -> None:
    """Import contacts from a CSV file (a progress bar shows how far it got).

    Needs only the store's settings, and TWILIO_FROM_NUMBER for marketing consent."""
    settings = _store_settings()
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            rows, problems = read_contacts(handle)
    except OSError as exc:
        _fail(f"{file}: {exc.strerror}")
    for problem in problems:
        warned(f"{file.name} {problem}")
    business = settings.twilio_from_number
    if business is None and any(row.marketing is not None for row in rows):
        _fail("marketing_consent needs TWILIO_FROM_NUMBER: consent is kept per business number")

    async def run(store: Store) -> int:
        with Progress(console=out, transient=True) as progress:
            task = progress.add_task("Importing contacts", total=len(rows))
            return await import_contacts(
                store,
                rows,
                business_number=business,
                source_name=file.name,
                on_row=lambda: progress.advance(task),
            )

    imported = asyncio.run(_with_store(settings, run))
    ok(f"{imported} contacts imported, {len(problems)} lines skipped")
    if problems:
        raise typer.Exit(1)


campaign_cli = typer.Typer(
    invoke_without_command=True,
    callback=_help_when_bare,
    help="Campaigns: texts to many subscribers, sent by the running bridge.",
)
cli.add_typer(campaign_cli, name="campaign")


def _campaign_desk(store: Store, settings: Settings, config: BusinessConfig) -> CampaignDesk:
    # The running bridge polls its outbox: nothing here needs waking.
    return CampaignDesk(
        store,
        config.business,
        config.campaigns,
        rate=settings.bridge_sms_rate,
        on_enqueued=lambda: None,
        routing=config.routing,
    )


@campaign_cli.command("send", short_help="Plan a campaign file, and start it.")
def campaign_send(
    file: Annotated[Path, typer.Argument(help="The campaign (YAML): name, to, text, …")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan; store and send nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Start it without asking.")] = False,
) -> None:
    """Show what the campaign would do (recipients after consent and quiet hours, who
    is left out and why, segments and encoding per text, the time it takes at the
    sender's rate, a sample), then start it: print its id and return. The running
    bridge (`sms-bridge serve`) sends it."""
    settings, config = _validated()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        _fail(f"{file}: {exc.strerror}")

    async def run(store: Store) -> Campaign | None:
        desk = _campaign_desk(store, settings, config)
        try:
            spec = read_spec(text, default_from=settings.twilio_from_number)
            plan = await desk.plan(spec)
        except CampaignError as exc:
            _fail(f"{file.name}: {exc}")
        for line in plan_lines(plan):
            out.print(line, markup=False)
        if dry_run:
            return None
        if not yes and not typer.confirm("Start this campaign?", default=False):
            raise typer.Exit(1)
        try:
            return await desk.create(spec, by="cli", plan=plan)
        except CampaignError as exc:
            _fail(f"{file.name}: {exc}")

    campaign = asyncio.run(_with_store(settings, run))
    if campaign is not None:
        watch = f"sms-bridge campaign watch {campaign.id}"
        ok(f"campaign {campaign.id} started: the running bridge sends it ({watch})")


@campaign_cli.command("list", short_help="Recent campaigns and where they stand.")
def campaign_list() -> None:
    """The latest campaigns, newest first: id, state, name, texts sent of recipients."""

    async def run(store: Store) -> list[tuple[Campaign, CampaignProgress]]:
        campaigns = await store.list_campaigns()
        return [(c, await store.campaign_progress(c.id)) for c in campaigns]

    for campaign, progress in asyncio.run(_with_store(_store_settings(), run)):
        out.print(
            f"{campaign.id}  {campaign.state.value:<9}  {progress.sent:>6}/{progress.total:<6}"
            f"  {campaign.created_at:%Y-%m-%d %H:%M}  {campaign.spec.name}",
            markup=False,
        )


def _campaign_move(campaign_id: str, move: str) -> None:
    settings, config = _validated()

    async def run(store: Store) -> Campaign:
        desk = _campaign_desk(store, settings, config)
        act = {
            "pause": desk.pause,
            "resume": desk.resume,
            "cancel": desk.cancel,
            "close": desk.close,
        }[move]
        try:
            return await act(campaign_id, by="cli")
        except CampaignError as exc:
            _fail(str(exc))

    campaign = asyncio.run(_with_store(settings, run))
    if move == "close":
        ok(f"campaign {campaign.id}: answers closed; the running bridge posts the final results")
    else:
        ok(f"campaign {campaign.id} is {campaign.state.value}")


@campaign_cli.command("pause", short_help="Stop queueing a campaign's texts for now.")
def campaign_pause(campaign_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Its queued texts wait too, until `campaign resume`."""
    _campaign_move(campaign_id, "pause")


@campaign_cli.command("resume", short_help="Go on sending a paused campaign.")
def campaign_resume(campaign_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    _campaign_move(campaign_id, "resume")


@campaign_cli.command("cancel", short_help="Send nothing more of a campaign.")
def campaign_cancel(campaign_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Its queued texts are cancelled; answers to what went out still count."""
    _campaign_move(campaign_id, "cancel")


@campaign_cli.command("close", short_help="Stop taking a campaign's answers now.")
def campaign_close(campaign_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Its poll, rating or opt-in request takes no more answers (later replies are
    ordinary texts); its final results and chart are posted."""
    _campaign_move(campaign_id, "close")


@campaign_cli.command("watch", short_help="A progress bar until a campaign has gone out.")
def campaign_watch(
    campaign_id: Annotated[str, typer.Argument(metavar="ID")],
    every: Annotated[float, typer.Option(help="Seconds between looks.", min=0.1)] = 1.0,
) -> None:
    """Texts sent, failed, blocked and skipped of its recipients, until it is done
    (nothing left to queue or send) or cancelled."""

    async def run(store: Store) -> Campaign:
        with Progress(console=out) as bar:
            task = bar.add_task(f"campaign {campaign_id}", total=None)
            while True:
                campaign = await store.get_campaign(campaign_id)
                if campaign is None:
                    _fail(f"no campaign {campaign_id!r} (sms-bridge campaign list)")
                progress = await store.campaign_progress(campaign_id)
                bar.update(task, total=progress.total, completed=progress.finished)
                over = campaign.state is CampaignState.DONE and progress.queued == 0
                if over or campaign.state is CampaignState.CANCELLED:
                    return campaign
                await asyncio.sleep(every)

    campaign = asyncio.run(_with_store(_store_settings(), run))
    ok(f"campaign {campaign.id} is {campaign.state.value}")


@campaign_cli.command("export", short_help="Write a campaign's counted answers as CSV.")
def campaign_export(
    campaign_id: Annotated[str, typer.Argument(metavar="ID", help="The campaign's id.")],
    file: Annotated[
        Path | None, typer.Argument(help="CSV file to write; standard output if absent.")
    ] = None,
) -> None:
    """Write one row per counted answer (subscriber, choice, label, text, at): the rows
    add up to the campaign's results.

    Needs only the store's settings (MONGODB_URI or BRIDGE_DB_PATH)."""

    async def answers(store: Store) -> tuple[Campaign | None, list[Answer]]:
        return await store.get_campaign(campaign_id), await store.campaign_answers(campaign_id)

    campaign, found = asyncio.run(_with_store(_store_settings(), answers))
    if campaign is None:
        _fail(f"no campaign {campaign_id!r} in the store (`sms-bridge campaign list` shows them)")
    if file is None:
        write_answers_csv(campaign, found, sys.stdout)
        return
    with file.open("w", newline="", encoding="utf-8") as handle:
        written = write_answers_csv(campaign, found, handle)
    ok(f"{written} answer{'s' * (written != 1)} written to {file}")


push_cli = typer.Typer(
    invoke_without_command=True,
    callback=_help_when_bare,
    help="Browser notifications (Web Push).",
)
cli.add_typer(push_cli, name="push")


@push_cli.command("keys", short_help="Make a VAPID key pair for notifications.web_push.")
def push_keys() -> None:
    """Print a new VAPID key pair as BRIDGE_CONFIG takes it. Keep the private key
    secret: it signs every push. A new key makes every browser subscribe again."""
    private, public = new_vapid_keys()
    typer.echo(
        "notifications:\n"
        "  web_push:\n"
        f'    vapid_private_key: "{private}"\n'
        '    subject: "mailto:you@example.com"  # who a push service may write to\n'
        f"# the public key (browsers get it from /notify/push): {public}"
    )


def main() -> None:
    try:
        code = cli(prog_name="sms-bridge", standalone_mode=False)
    except typer.TyperException as exc:  # a usage error: one line, and where the help is
        context = getattr(exc, "ctx", None)
        hint = f" (see `{context.command_path} --help`)" if context is not None else ""
        typer.echo(f"sms-bridge: {exc.format_message()}{hint}", err=True)
        code = exc.exit_code
    except typer.Abort:
        code = 1
    raise SystemExit(code or 0)


if __name__ == "__main__":
    main()
