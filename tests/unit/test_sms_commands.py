"""`/sms` text → a command: every declared command parses from its usage, and what a
person may mistype is answered with what is wrong. The declarations drive the usage
line, `/sms help` and what the picker may run."""

from __future__ import annotations

import pytest

from bridge.threading.commands.grammar import Command, Target, UsageError, usage
from bridge.threading.commands.table import COMMANDS, PICKABLE, USAGE, help_text, read

ANA = "+14155550123"


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", Command(action="help")),
        ("help", Command(action="help")),
        ("help me", Command(action="help")),
        (
            "assign #42 <@U0ANA>",
            Command(action="assign", target=Target(number=42), user="U0ANA"),
        ),
        ("assign", Command(action="assign")),
        ("Resolve (415) 555-0123", Command(action="resolve", target=Target(phone=ANA))),
        ("reopen #7", Command(action="reopen", target=Target(number=7))),
        ("unassign #7", Command(action="unassign", target=Target(number=7))),
        ("unflag", Command(action="unflag")),
        (
            "flag #3 wants a  refund",
            Command(action="flag", target=Target(number=3), text="wants a  refund"),
        ),
        ("flag #3", Command(action="flag", target=Target(number=3))),
        (
            "send 415-555-0123 hi there",
            Command(action="send", target=Target(phone=ANA), text="hi there"),
        ),
        (
            'contact #2 name="Ana Ruiz" city=Oakland',
            Command(
                action="contact",
                target=Target(number=2),
                fields={"name": "Ana Ruiz", "city": "Oakland"},
            ),
        ),
        ("contact #2", Command(action="contact", target=Target(number=2))),
        ("canned", Command(action="canned list")),
        ("canned list", Command(action="canned list")),
        (
            "canned add Hours We open at 7",
            Command(action="canned add", name="hours", text="We open at 7"),
        ),
        ("canned remove hours", Command(action="canned remove", name="hours")),
        (
            "canned hours #4",
            Command(action="canned send", name="hours", target=Target(number=4)),
        ),
        ("canned hours", Command(action="canned send", name="hours")),
        ("kb", Command(action="kb")),
        ("kb reload", Command(action="kb reload")),
    ],
)
def test_commands_read(text: str, command: Command) -> None:
    assert read(text) == command


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
        read(text)
    assert wrong in str(refused.value)


def test_every_declared_command_parses_from_its_usage_example() -> None:
    for spec in COMMANDS:
        assert read(spec.example).action == spec.name, usage(spec)


def test_the_usage_line_and_help_name_every_command_once() -> None:
    for spec in COMMANDS:
        assert USAGE.count(f"`{usage(spec)}`") == 1
        assert help_text().count(f"`/sms {usage(spec)}`") == 1


def test_the_picker_runs_only_commands_on_a_conversation_never_a_send() -> None:
    on_a_conversation = {"assign", "unassign", "resolve", "reopen"}
    on_a_conversation |= {"flag", "unflag", "contact", "canned send", "route"}
    assert on_a_conversation == PICKABLE
