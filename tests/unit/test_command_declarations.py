"""A `/sms` command is one declaration: its name, words, arguments, help text,
permission and handler. Parsing, the usage line, `/sms help`, the picker and who may
run it all follow from it, so a new command touches one place."""

from __future__ import annotations

from typing import Any, cast

from bridge.config import Business, SlackSection
from bridge.preflight import admin_problem
from bridge.threading.command_desk import CommandDesk
from bridge.threading.commands.answers import AdminOnly, Answer, HelpText, Said
from bridge.threading.commands.grammar import Arg, parse, usage_line
from bridge.threading.commands.spec import Call, Permission, Spec
from bridge.threading.commands.table import COMMANDS, help_text

ADMIN, AGENT = "U0BOSS", "U0AGENT"


async def _ping(call: Call) -> Answer:
    return HelpText(f"pong {call.command.text} for {call.user}")


PING = Spec("ping", "ping", _ping, (Arg.REASON,), "answer pong", "ping hello")


def desk(commands: tuple[Spec, ...] = COMMANDS, **slack: Any) -> CommandDesk:
    nothing = cast(Any, None)  # these commands reach no store, desk or pipeline
    return CommandDesk(
        nothing,
        nothing,
        nothing,
        business=Business(),
        slack=SlackSection.model_validate(slack),
        business_number=None,
        commands=commands,
    )


async def test_a_new_command_is_one_declaration() -> None:
    table = (*COMMANDS, PING)
    command = parse("ping  hello there", table)
    assert (command.action, command.text) == ("ping", "hello there")
    assert "`ping [reason]`" in usage_line(table)
    reply = await desk(table).run(command, AGENT)
    assert reply.answer == HelpText(f"pong hello there for {AGENT}")


async def test_a_command_that_takes_a_target_offers_the_picker_first() -> None:
    pickable = Spec("poke", "poke", _ping, (Arg.TARGET,), "poke it", "poke #1")
    assert pickable.pickable
    assert not PING.pickable

    class Recent:
        async def list_conversations(self, *_: Any, **__: Any) -> list[Any]:
            return []

    command = parse("poke", (pickable,))
    runner = CommandDesk(
        cast(Any, Recent()),
        cast(Any, None),
        cast(Any, None),
        business=Business(),
        slack=SlackSection(),
        business_number=None,
        commands=(pickable,),
    )
    assert (await runner.run(command, AGENT)).answer is Said.WHICH_CONVERSATION


async def test_who_may_run_a_command_is_declared_with_it() -> None:
    admin_only = {spec.name for spec in COMMANDS if spec.permission is Permission.ADMIN}
    assert admin_only == {"canned add", "canned remove"}
    guarded = desk(admins=[ADMIN])
    add = parse("canned add hours We open at 7", COMMANDS)
    assert (await guarded.run(add, AGENT)).answer == AdminOnly("canned add")
    # The setting, when given, replaces the declared list.
    listed = desk(admins=[ADMIN], admin_actions=["help"])
    assert (await listed.run(parse("help", COMMANDS), AGENT)).answer == AdminOnly("help")
    assert isinstance(
        (await desk(admins=[ADMIN]).run(parse("help", COMMANDS), AGENT)).answer, HelpText
    )


def test_the_admin_setting_names_only_declared_commands() -> None:
    assert admin_problem(["canned add", "kb reload"]) is None
    problem = admin_problem(["canned ad"])
    assert problem is not None
    assert problem.startswith("slack.admin_actions in BRIDGE_CONFIG: 'canned ad'")


def test_help_lists_every_declared_command_with_what_it_does() -> None:
    for spec in COMMANDS:
        assert spec.does
        assert f"— {spec.does}" in help_text()
