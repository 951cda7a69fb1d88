"""What an SMS body costs: GSM-7 or UCS-2, and how many segments.

Slack clients type look-alikes of GSM-7 characters (smart quotes, dashes, the
ellipsis, non-breaking spaces); one of them alone switches a whole message to UCS-2,
which fits 70 characters a segment instead of 160. `normalise` swaps them for their
GSM-7 twins, as Twilio's Smart Encoding does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import gsm0338  # noqa: F401 - registers the "gsm03.38" codec

MAX_BODY = 1600  # Twilio refuses longer bodies

LOOKALIKES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u2002": " ",
        "\u2003": " ",
        "\u2007": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u202f": " ",
        "\u205f": " ",
        "\u200b": "",
        "\u2060": "",
        "\ufeff": "",
        "\u2022": "-",
        "\u00b7": "-",
    }
)


class Encoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True)
class Cost:
    encoding: Encoding
    segments: int
    # The characters that forced UCS-2, in order of appearance, each once.
    culprits: tuple[str, ...] = ()


def normalise(text: str) -> str:
    return text.translate(LOOKALIKES)


def _septets(char: str) -> int | None:
    try:
        return len(char.encode("gsm03.38"))  # extension characters take two
    except UnicodeEncodeError:
        return None


def cost(text: str) -> Cost:
    septets = 0
    culprits: dict[str, None] = {}
    for char in text:
        size = _septets(char)
        if size is None:
            culprits[char] = None
        else:
            septets += size
    if not culprits:
        segments = 1 if septets <= 160 else -(-septets // 153)
        return Cost(Encoding.GSM7, segments)
    units = len(text.encode("utf-16-le")) // 2  # astral emoji take two UCS-2 units
    segments = 1 if units <= 70 else -(-units // 67)
    return Cost(Encoding.UCS2, segments, tuple(culprits))
