"""The lines `check`, `connect` and the imports print: a coloured mark, then plain text.
The text is never read as Rich markup, so a `[` in a name or an error shows as typed."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

# No highlighting of numbers and URLs, and no line breaks inserted at the terminal's
# width: a long URL or error stays one line to read, copy and grep.
out = Console(highlight=False, soft_wrap=True)


def ok(text: str) -> None:
    out.print(Text.assemble(("✓", "green"), " ", text))


def failed(text: str) -> None:
    out.print(Text.assemble(("✗", "red"), " ", text))


def warned(text: str) -> None:
    out.print(Text.assemble(("!", "yellow"), " ", text))
