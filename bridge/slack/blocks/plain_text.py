"""Slack markup → the plain text a phone shows.

Mentions become names (users.info, cached), channel links their names, links
`label (url)`, entities unescaped, `:shortcode:` emoji unicode, and the mrkdwn
markers for bold, italics, strike and code dropped.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import emoji

from bridge.slack.blocks.mrkdwn import unescape
from bridge.threading.mentions import mark

_TOKEN = re.compile(r"<([^<>]+)>")
_SHORTCODE = re.compile(r":[a-z0-9_+\-']+:")
# Markers only where they wrap words, so "2*3*4" and snake_case survive.
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_CODE_BLOCK = re.compile(r"```\n?(.*?)\n?```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")

NameLookup = Callable[[str], Awaitable[str | None]]
NameSource = Callable[[set[str]], Awaitable[dict[str, str]]]
_USER = re.compile(r"<@([UW][A-Z0-9]{1,39})(?:\|[^<>]*)?>")


def mentioned(text: str, *, limit: int = 100) -> set[str]:
    """The people a Slack text mentions (at most `limit`: a bound on the look-ups)."""
    found: set[str] = set()
    for match in _USER.finditer(text):
        found.add(match.group(1))
        if len(found) >= limit:
            break
    return found


def drop_markers(text: str) -> str:
    text = _CODE_BLOCK.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    for pattern in (_BOLD, _ITALIC, _STRIKE):
        text = pattern.sub(r"\1", text)
    return text


def shortcodes_to_unicode(text: str) -> str:
    def swap(match: re.Match[str]) -> str:
        code = match.group()
        converted = emoji.emojize(code, language="alias")
        return converted if converted != code else code

    return _SHORTCODE.sub(swap, text)


def _someone(_user: str) -> str:
    return "@someone"


async def to_sms(text: str, names: NameSource, channel_name: NameLookup) -> str:
    """An agent's Slack text as the phone shows it. The names of everyone it mentions
    are asked for together, within the acknowledgement's budget; a name not known yet
    is marked, and filled in when the text is sent (`bridge.threading.mentions`)."""
    known = await names(mentioned(text))

    async def name_of(user: str) -> str | None:
        return known.get(user)

    return await to_plain(text, name_of, channel_name, unnamed=mark)


async def to_plain(
    text: str,
    user_name: NameLookup,
    channel_name: NameLookup,
    *,
    unnamed: Callable[[str], str] = _someone,
) -> str:
    """`unnamed` writes a mention whose name the lookup does not give."""
    parts: list[str] = []
    last = 0
    for match in _TOKEN.finditer(text):
        parts.append(_plain_run(text[last : match.start()]))
        parts.append(await _token(match.group(1), user_name, channel_name, unnamed))
        last = match.end()
    parts.append(_plain_run(text[last:]))
    return "".join(parts).strip()


def _plain_run(run: str) -> str:
    return unescape(shortcodes_to_unicode(drop_markers(run)))


async def _token(
    inner: str, user_name: NameLookup, channel_name: NameLookup, unnamed: Callable[[str], str]
) -> str:
    target, _, label = inner.partition("|")
    label = unescape(label)
    if target.startswith("@"):
        name = label or await user_name(target[1:])
        return f"@{name}" if name else unnamed(target[1:])
    if target.startswith("#"):
        name = label or await channel_name(target[1:])
        return f"#{name or 'channel'}"
    if target.startswith("!"):
        special = target[1:].split("^", 1)[0]
        if special in {"here", "channel", "everyone"}:
            return f"@{special}"
        return label or ""  # dates and user groups: their fallback text
    url = unescape(target)
    shown = url.removeprefix("mailto:")
    if not label or label in (shown, url):
        return shown
    return f"{label} ({shown})"
