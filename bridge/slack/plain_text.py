"""Slack markup → the plain text a phone shows.

Mentions become names (users.info, cached), channel links their names, links
`label (url)`, entities unescaped, `:shortcode:` emoji unicode, and the mrkdwn
markers for bold, italics, strike and code dropped.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import emoji

_TOKEN = re.compile(r"<([^<>]+)>")
_SHORTCODE = re.compile(r":[a-z0-9_+\-']+:")
# Markers only where they wrap words, so "2*3*4" and snake_case survive.
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_CODE_BLOCK = re.compile(r"```\n?(.*?)\n?```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")

NameLookup = Callable[[str], Awaitable[str | None]]


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


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


async def to_plain(text: str, user_name: NameLookup, channel_name: NameLookup) -> str:
    parts: list[str] = []
    last = 0
    for match in _TOKEN.finditer(text):
        parts.append(_plain_run(text[last : match.start()]))
        parts.append(await _token(match.group(1), user_name, channel_name))
        last = match.end()
    parts.append(_plain_run(text[last:]))
    return "".join(parts).strip()


def _plain_run(run: str) -> str:
    return unescape(shortcodes_to_unicode(drop_markers(run)))


async def _token(inner: str, user_name: NameLookup, channel_name: NameLookup) -> str:
    target, _, label = inner.partition("|")
    label = unescape(label)
    if target.startswith("@"):
        name = await user_name(target[1:])
        return f"@{label or name or 'someone'}"
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
