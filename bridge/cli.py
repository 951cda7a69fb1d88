"""The `sms-bridge` command line."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from aiohttp import web
from rich.console import Console
from rich.progress import Progress

from bridge import logs
from bridge.app import build_app, make_store
from bridge.checks import run_checks
from bridge.compliance.export import write_consent_csv
from bridge.config import BusinessConfig, ConfigError, Settings, load_business_config, load_settings
from bridge.connect import connect
from bridge.store.base import Store, StoreUnavailable
from bridge.threading.contacts import import_contacts, read_contacts

T = TypeVar("T")

cli = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Run your customers' SMS from Slack: one thread per phone number.",
)
out = Console(highlight=False)


def _fail(message: str) -> NoReturn:
    """One line an operator can act on, and exit 2: never a traceback."""
    typer.echo(f"sms-bridge: {message}", err=True)
    raise typer.Exit(2)


async def _with_store(settings: Settings, use: Callable[[Store], Awaitable[T]]) -> T:
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


def _load() -> tuple[Settings, BusinessConfig]:
    try:
        settings = load_settings()
        return settings, load_business_config(settings.bridge_config)
    except ConfigError as exc:
        _fail(str(exc))


@cli.command()
def serve() -> None:
    """Run the bridge: webhooks for Twilio and Slack, and the delivery workers."""
    settings, config = _load()
    logs.configure(settings.bridge_log_level)

    async def app() -> web.Application:
        try:
            return await build_app(settings, config)
        except StoreUnavailable as exc:
            _fail(str(exc))

    web.run_app(app(), host=settings.bridge_host, port=settings.port, print=None, access_log=None)


@cli.command()
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

    run_demo(port=port, open_browser=open_browser, config=config)


@cli.command()
def check() -> None:
    """Validate the configuration and, where credentials are set, try them."""
    settings, _config = _load()
    out.print("[green]✓[/] settings and business configuration are valid")
    problems = asyncio.run(run_checks(settings, out))
    if problems:
        raise typer.Exit(1)


@cli.command("connect")
def connect_command(
    number: Annotated[
        str | None,
        typer.Argument(
            help="The Twilio number; default TWILIO_FROM_NUMBER or the Messaging Service."
        ),
    ] = None,
) -> None:
    """Point a Twilio number's (or Messaging Service's) incoming texts at the bridge."""
    settings, _config = _load()
    if asyncio.run(connect(settings, number, out)):
        raise typer.Exit(1)


consent_cli = typer.Typer(no_args_is_help=True, help="The consent ledger.")
cli.add_typer(consent_cli, name="consent")


@consent_cli.command("export")
def consent_export(
    file: Annotated[
        Path | None, typer.Argument(help="CSV file to write; standard output if absent.")
    ] = None,
) -> None:
    """Write every consent change (who, what, granted or revoked, source, when) as CSV."""
    settings, _config = _load()

    events = asyncio.run(_with_store(settings, lambda store: store.consent_log()))
    if file is None:
        write_consent_csv(events, sys.stdout)
        return
    with file.open("w", newline="", encoding="utf-8") as handle:
        write_consent_csv(events, handle)
    out.print(f"[green]✓[/] {len(events)} consent events written to {file}")


contacts_cli = typer.Typer(no_args_is_help=True, help="Subscribers' names and details.")
cli.add_typer(contacts_cli, name="contacts")


@contacts_cli.command("import")
def contacts_import(
    file: Annotated[Path, typer.Argument(help="CSV: phone, name, marketing_consent, fields…")],
) -> None:
    """Import contacts from a CSV file (a progress bar shows how far it got)."""
    settings, _config = _load()
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            rows, problems = read_contacts(handle)
    except OSError as exc:
        _fail(f"{file}: {exc.strerror}")
    for problem in problems:
        out.print(f"[yellow]![/] {file.name} {problem}", markup=False)
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
    out.print(f"[green]✓[/] {imported} contacts imported, {len(problems)} lines skipped")
    if problems:
        raise typer.Exit(1)


def main() -> None:
    cli(prog_name="sms-bridge")


if __name__ == "__main__":
    main()
