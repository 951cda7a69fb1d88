"""`/sms` text → a command: every declared command parses from its usage, and what a
person may mistype is answered with what is wrong. The declarations drive the usage
line, `/sms help` and what the picker may run."""

from __future__ import annotations

import pytest

from bridge.threading.commands import (
    COMMANDS,
    PICKABLE,
    USAGE,
    Action,
    Command,
    Target,
    UsageError,
    help_text,
    parse,
)

ANA = "+14155550123"


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", Command(action=Action.HELP)),
        ("help", Command(action=Action.HELP)),
        ("help me", Command(action=Action.HELP)),
        (
            "assign #42 <@U0ANA>",
            Command(action=Action.ASSIGN, target=Target(number=42), user="U0ANA"),
        ),
        ("assign", Command(action=Action.ASSIGN)),
        ("Resolve (415) 555-0123", Command(action=Action.RESOLVE, target=Target(phone=ANA))),
        ("reopen #7", Command(action=Action.REOPEN, target=Target(number=7))),
        ("unassign #7", Command(action=Action.UNASSIGN, target=Target(number=7))),
        ("unflag", Command(action=Action.UNFLAG)),
        (
            "flag #3 wants a  refund",
            Command(action=Action.FLAG, target=Target(number=3), text="wants a  refund"),
        ),
        ("flag #3", Command(action=Action.FLAG, target=Target(number=3))),
        (
            "send 415-555-0123 hi there",
            Command(action=Action.SEND, target=Target(phone=ANA), text="hi there"),
        ),
        (
            'contact #2 name="Ana Ruiz" city=Oakland',
            Command(
                action=Action.CONTACT,
                target=Target(number=2),
                fields={"name": "Ana Ruiz", "city": "Oakland"},
            ),
        ),
        ("contact #2", Command(action=Action.CONTACT, target=Target(number=2))),
        ("canned", Command(action=Action.CANNED_LIST)),
        ("canned list", Command(action=Action.CANNED_LIST)),
        (
            "canned add Hours We open at 7",
            Command(action=Action.CANNED_ADD, name="hours", text="We open at 7"),
        ),
        ("canned remove hours", Command(action=Action.CANNED_REMOVE, name="hours")),
        (
            "canned hours #4",
            Command(action=Action.CANNED_SEND, name="hours", target=Target(number=4)),
        ),
        ("canned hours", Command(action=Action.CANNED_SEND, name="hours")),
        ("kb", Command(action=Action.KB_STATUS)),
        ("kb reload", Command(action=Action.KB_RELOAD)),
    ],
)
def test_commands_parse(text: str, command: Command) -> None:
    assert parse(text) == command


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("dance", "There is no `/sms dance`"),
        ("assign #42", "Name the person"),
        ("resolve #4 now", "takes nothing more"),
        ("resolve nobody", "is not a phone number or a conversation number"),
        ("send #4 hi", "needs a phone number"),
        ("send 415-555-0123", "needs the text"),
        ("kb refresh", "takes nothing more"),
        ("canned add", "needs a name"),
        ("canned add hours", "needs the text"),
        ("canned h!ours #4", "is not a name"),
        ("canned hours #4 now", "takes nothing more"),
        ("contact #2 Ana", "written like `name=Ana city=Oakland`"),
        ("flag #1 " + "x" * 501, "at most 500 characters"),
    ],
)
def test_a_mistyped_command_says_what_is_wrong(text: str, wrong: str) -> None:
    with pytest.raises(UsageError) as refused:
        parse(text)
    assert wrong in str(refused.value)


def test_every_declared_command_parses_from_its_usage_example() -> None:
    for spec in COMMANDS:
        assert parse(spec.example).action is spec.action, spec.usage


def test_the_usage_line_and_help_name_every_command_once() -> None:
    for spec in COMMANDS:
        assert USAGE.count(f"`{spec.usage}`") == 1
        assert help_text().count(f"`/sms {spec.usage}`") == 1


def test_the_picker_runs_only_commands_on_a_conversation_never_a_send() -> None:
    on_a_conversation = {Action.ASSIGN, Action.UNASSIGN, Action.RESOLVE, Action.REOPEN}
    on_a_conversation |= {Action.FLAG, Action.UNFLAG, Action.CONTACT, Action.CANNED_SEND}
    assert on_a_conversation == PICKABLE
