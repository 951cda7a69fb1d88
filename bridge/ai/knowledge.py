"""The business's knowledge base: Markdown pages, YAML question-answer files, inline FAQ
entries from the config and the business profile, loaded into typed, bounded entries.

Sources and the ids of their entries (ids are stable, so drafts can cite them):

- Markdown (`*.md`, `*.markdown`): each `##` section is an entry, heading = title, body =
  answer; its id is `<file>/<heading slug>` (`orders/delivery`), or the id given in the
  heading as `## Delivery {#shipping-zone}`. Text between the `#` title and the first `##`
  is an entry of its own with id `<file>`; a file without `##` sections is one entry.
  `###` headings and lists stay inside their section. Front matter (`---` … `---`) and
  HTML comments are ignored. `<file>` is the path below the knowledge folder without its
  suffix, slugged (`menus/cakes`).
- YAML (`*.yml`, `*.yaml`): a list of `{q, a, alt?, id?}` mappings; `alt` is a paraphrase
  or a list of them. The id is `<file>/<id>` or `<file>/<question slug>`.
- `learned.yml` at the top of the folder: what admins approved from agents' answers
  (`{id, q, a, alt}` like any YAML file), read last; an entry asking a question the base
  already has (its question or a phrasing, case and punctuation aside) adds its wording
  to that entry's `alt` instead of a second entry.
- Inline FAQ (the config's `knowledge.faq`): `inline/<question slug>`.
- The business profile: `profile/name`, `profile/hours`, `profile/contact`.

Malformed input raises `KnowledgeError` whose message names the file and line. Sizes are
bounded by `KbLimits`. `knowledge_signature` (mtimes and sizes of the files) is cheap to
poll; `KnowledgeSource` keeps the current base and reloads it when the signature changes.
Loading reads files: call it from a thread (`asyncio.to_thread`) inside the event loop.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Literal, Protocol

import yaml

from bridge.config import DAYS, BusinessConfig, expand_days

EntryKind = Literal["markdown", "yaml", "faq", "profile"]
Signature = tuple[tuple[str, int, int], ...]
"""(relative path, mtime in ns, size) of every knowledge file, sorted by path."""

MARKDOWN_SUFFIXES = (".md", ".markdown")
YAML_SUFFIXES = (".yml", ".yaml")
YAML_KEYS = ("id", "q", "a", "alt")
LEARNED_FILE = "learned.yml"

_DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
_ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]*")


class KnowledgeError(Exception):
    """Malformed or oversized knowledge; the message is `file:line: problem` in one line."""

    def __init__(self, where: str, line: int | None, problem: str) -> None:
        self.where = where
        self.line = line
        self.problem = problem
        at = f"{where}:{line}" if line is not None else where
        super().__init__(f"{at}: {problem}")


@dataclass(frozen=True, slots=True)
class KbLimits:
    max_entries: int = 2000
    max_answer_chars: int = 2000
    max_title_chars: int = 300
    max_alt: int = 20  # paraphrases per entry
    max_files: int = 500
    max_file_bytes: int = 1_000_000


DEFAULT_LIMITS = KbLimits()


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing the business knows: a question or title and its answer (plain text)."""

    id: str
    title: str
    answer: str
    kind: EntryKind
    origin: str  # where it came from: "kb/orders.md:12", "knowledge.faq[0]", "business profile"
    alt: tuple[str, ...] = ()  # other ways to ask it
    topic: str = ""  # the Markdown page's title, "" elsewhere
    keywords: str = ""  # extra words to find it by (not shown); used by generated entries


class _BusinessLike(Protocol):
    """What `BusinessProfile.from_config` reads (`bridge.config.Business` fits)."""

    @property
    def name(self) -> str: ...
    @property
    def contact(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def hours(self) -> Mapping[str, str]: ...
    @property
    def holidays(self) -> Sequence[str]: ...


class _QuestionAnswer(Protocol):
    """An inline FAQ item (`bridge.config.FaqEntry` fits; `alt` and `id` are optional)."""

    @property
    def q(self) -> str: ...
    @property
    def a(self) -> str: ...


@dataclass(frozen=True, slots=True)
class FaqItem:
    q: str
    a: str
    alt: tuple[str, ...] = ()
    id: str | None = None


@dataclass(frozen=True, slots=True)
class BusinessProfile:
    name: str
    contact: str = ""
    timezone: str = "UTC"
    hours: tuple[tuple[str, str], ...] = ()  # ("mon-fri", "07:00-18:00"), as in the config
    holidays: tuple[str, ...] = ()  # ISO dates

    @classmethod
    def from_config(cls, business: _BusinessLike) -> BusinessProfile:
        return cls(
            name=business.name,
            contact=business.contact,
            timezone=business.timezone,
            hours=tuple(business.hours.items()),
            holidays=tuple(business.holidays),
        )

    def open_days(self) -> list[str]:
        days: list[str] = []
        for spec, _span in self.hours:
            days.extend(d for d in expand_days(spec) if d not in days)
        return days

    def hours_text(self) -> str:
        """`Mon-Fri 7:00-18:00, Sat 8:00-14:00; closed Sunday` (ASCII: one GSM-7 segment)."""
        if not self.hours:
            return ""
        spans = [f"{_days_label(spec)} {_span_label(span)}" for spec, span in self.hours]
        closed = [_DAY_NAMES[d] for d in DAYS if d not in self.open_days()]
        text = ", ".join(spans)
        if closed:
            text += "; closed on " + _and_list(closed)
        return text

    def holidays_text(self) -> str:
        return _and_list([_date_label(day) for day in self.holidays])


def _and_list(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _days_label(spec: str) -> str:
    return "-".join(p.capitalize() for p in spec.split("-"))


def _span_label(span: str) -> str:
    return re.sub(r"\b0(\d):", r"\1:", span.strip())


def _date_label(iso: str) -> str:
    try:
        return date.fromisoformat(iso).strftime("%b %-d")
    except ValueError:
        return iso


@dataclass(frozen=True)
class KnowledgeBase:
    entries: tuple[Entry, ...]
    profile: BusinessProfile | None = None
    signature: Signature = ()
    warnings: tuple[str, ...] = ()
    synonyms: tuple[tuple[str, ...], ...] = ()  # the business's own groups (knowledge.synonyms)
    version: str = field(init=False)  # a hash of the content: equal content, equal version
    _by_id: dict[str, Entry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        digest = hashlib.blake2b(digest_size=12)
        for entry in self.entries:
            for part in (entry.id, entry.title, entry.answer, *entry.alt, entry.topic):
                digest.update(part.encode("utf-8"))
                digest.update(b"\x00")
            digest.update(entry.keywords.encode("utf-8") + b"\x01")
        for group in self.synonyms:
            digest.update("\x00".join(group).encode("utf-8") + b"\x02")
        object.__setattr__(self, "version", digest.hexdigest())
        object.__setattr__(self, "_by_id", {entry.id: entry for entry in self.entries})

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def render(self) -> str:
        """The whole base as text for a prompt, in a stable order (so it caches well)."""
        blocks = []
        for entry in self.entries:
            head = f"[{entry.id}] {entry.title}"
            if entry.topic:
                head += f" ({entry.topic})"
            lines = [head]
            if entry.alt:
                lines.append("Also asked as: " + " | ".join(entry.alt))
            lines.append(entry.answer)
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)


# --- ids and text -----------------------------------------------------------------------


def slug(text: str, limit: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(words) > limit:
        words = words[:limit].rsplit("-", 1)[0] or words[:limit]
    return words or "entry"


_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^>]+)>")
_EMPHASIS = re.compile(
    r"(\*\*|__)(.+?)\1|(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])|(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)"
)
_CODE = re.compile(r"`([^`]*)`")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+(.*)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_HEADING_ID = re.compile(r"\s*\{#([^}]*)\}\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def _inline(text: str) -> str:
    def link(match: re.Match[str]) -> str:
        label, url = match.group(1).strip(), match.group(2)
        if match.group(0).startswith("!"):
            return label
        if url.startswith("mailto:"):
            url = url[len("mailto:") :]
        return url if not label or label == url else f"{label} ({url})"

    text = _LINK.sub(link, text)
    text = _AUTOLINK.sub(lambda m: m.group(1).removeprefix("mailto:"), text)
    text = _CODE.sub(r"\1", text)
    text = _EMPHASIS.sub(lambda m: next(g for g in m.groups()[1:] if g is not None), text)
    return text.replace("\\", "")


def markdown_to_text(lines: Iterable[str]) -> str:
    """A Markdown body as plain text for an SMS: paragraphs and list items on their own
    lines, emphasis and link syntax removed (the URL kept)."""
    out: list[str] = []
    paragraph: list[str] = []
    in_fence = False

    def flush() -> None:
        if paragraph:
            out.append(_inline(" ".join(paragraph)))
            paragraph.clear()

    for raw in lines:
        if _FENCE.match(raw):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            out.append(raw.rstrip())
            continue
        line = raw.strip()
        if not line:
            flush()
            continue
        heading = _HEADING.match(line)
        item = _LIST_ITEM.match(line)
        if heading:
            flush()
            out.append(_inline(_HEADING_ID.sub("", heading.group(2))).rstrip(":") + ":")
        elif item:
            flush()
            paragraph.append(item.group(1))
        elif line.startswith(">"):
            paragraph.append(line.lstrip("> "))
        elif set(line) <= set("-*_ ") and len(line.replace(" ", "")) >= 3:
            flush()  # a thematic break
        elif line.startswith("|") and set(line) <= set("|-: "):
            continue  # a table's header separator
        else:
            paragraph.append(line)
    flush()
    return "\n".join(part for part in out if part.strip()).strip()


# --- the loader -------------------------------------------------------------------------


class _Builder:
    def __init__(self, limits: KbLimits) -> None:
        self.limits = limits
        self.entries: list[Entry] = []
        self.ids: dict[str, str] = {}  # id -> origin
        self.warnings: list[str] = []

    def add(
        self,
        *,
        entry_id: str,
        explicit: bool,
        title: str,
        answer: str,
        kind: EntryKind,
        where: str,
        line: int | None,
        alt: Sequence[str] = (),
        topic: str = "",
        keywords: str = "",
    ) -> None:
        origin = f"{where}:{line}" if line is not None else where
        title, answer = title.strip(), answer.strip()
        if not title:
            raise KnowledgeError(where, line, "the question or heading is empty")
        if not answer:
            raise KnowledgeError(where, line, f"{title!r} has no answer")
        limits = self.limits
        if len(self.entries) >= limits.max_entries:
            raise KnowledgeError(where, line, f"more than {limits.max_entries} entries (the limit)")
        if len(answer) > limits.max_answer_chars:
            raise KnowledgeError(
                where,
                line,
                f"the answer to {title[:60]!r} has {len(answer)} characters; "
                f"the limit is {limits.max_answer_chars}",
            )
        for text in (title, *alt):
            if len(text) > limits.max_title_chars:
                shown = text if len(text) <= 40 else text[:40] + "..."
                raise KnowledgeError(
                    where,
                    line,
                    f"{shown!r} has {len(text)} characters; "
                    f"a question or heading may have {limits.max_title_chars}",
                )
        if len(alt) > limits.max_alt:
            raise KnowledgeError(
                where, line, f"{len(alt)} paraphrases in alt; the limit is {limits.max_alt}"
            )
        if entry_id in self.ids:
            if explicit:
                raise KnowledgeError(
                    where, line, f"id {entry_id!r} is already used at {self.ids[entry_id]}"
                )
            base, n = entry_id, 2
            while f"{base}-{n}" in self.ids:
                n += 1
            entry_id = f"{base}-{n}"
        self.ids[entry_id] = origin
        self.entries.append(
            Entry(
                id=entry_id,
                title=title,
                answer=answer,
                kind=kind,
                origin=origin,
                alt=tuple(a.strip() for a in alt if a.strip()),
                topic=topic,
                keywords=keywords,
            )
        )

    def learn(self, entry: Entry, where: str, line: int | None) -> None:
        """A learned entry: its wording becomes phrasings of the entry that already asks
        its question, else it is an entry of its own."""
        asked = {
            question_key(text): i
            for i, known in enumerate(self.entries)
            for text in (known.title, *known.alt)
        }
        i = asked.get(question_key(entry.title))
        if i is None:
            self.add(
                entry_id=entry.id,
                explicit=False,
                title=entry.title,
                answer=entry.answer,
                kind="yaml",
                where=where,
                line=line,
                alt=entry.alt,
            )
            return
        known = self.entries[i]
        have = {question_key(text) for text in (known.title, *known.alt)}
        extra = [t for t in dict.fromkeys((entry.title, *entry.alt)) if question_key(t) not in have]
        room = self.limits.max_alt - len(known.alt)
        if len(extra) > room:
            self.warnings.append(
                f"{where}:{line}: {known.id} has {self.limits.max_alt} phrasings; "
                f"{len(extra) - max(room, 0)} learned ones left out"
            )
        self.entries[i] = replace(known, alt=(*known.alt, *extra[: max(room, 0)]))


def question_key(question: str) -> str:
    """A question as two people would both ask it: case, spacing and punctuation aside."""
    return " ".join(re.sub(r"[^\w\s]", " ", question.casefold()).split())


def _file_prefix(relative: Path) -> str:
    parts = [*relative.parent.parts, relative.stem]
    return "/".join(slug(part) for part in parts)


def _load_markdown(text: str, where: str, prefix: str, builder: _Builder) -> None:
    lines = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text).split("\n")
    start = 0
    if lines and lines[0].strip() == "---":  # front matter
        for i in range(1, len(lines)):
            if lines[i].strip() in ("---", "..."):
                start = i + 1
                break
    front = "\n".join(lines[: start - 1]) if start else ""
    page_alt, section_alt = _front_matter_alt(front, where)
    title: str | None = None
    title_line: int | None = None
    preamble: list[str] = []
    sections: list[tuple[str, int, str | None, list[str]]] = []
    in_fence = False
    for number in range(start + 1, len(lines) + 1):
        line = lines[number - 1]
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        level = len(heading.group(1)) if heading else 0
        if heading and level <= 2:
            heading_text = heading.group(2)
            explicit = _HEADING_ID.search(heading_text)
            heading_text = _inline(_HEADING_ID.sub("", heading_text)).strip()
            if not heading_text:
                raise KnowledgeError(where, number, "a heading without text")
            if level == 1 and title is None and not sections:
                title, title_line = heading_text, number
                continue
            own_id = explicit.group(1) if explicit else None
            if own_id is not None and not _ID_RE.fullmatch(own_id):
                raise KnowledgeError(
                    where, number, f"{{#{own_id}}}: ids use a-z, 0-9, '.', '_' and '-'"
                )
            sections.append((heading_text, number, own_id, []))
            continue
        (sections[-1][3] if sections else preamble).append(line)

    page_title = title or prefix.rsplit("/", 1)[-1].replace("-", " ").capitalize()
    intro = markdown_to_text(preamble)
    if intro:
        builder.add(
            entry_id=prefix,
            explicit=False,
            title=page_title,
            answer=intro,
            kind="markdown",
            where=where,
            line=title_line or start + 1,
            alt=page_alt,
        )
        page_alt = []
    known = {key for text, _, own, _ in sections for key in (own, slug(text))}
    for key, (_, alt_line) in section_alt.items():
        if key not in known:
            raise KnowledgeError(where, alt_line, f"alt for {key!r}: no such section on this page")
    for index, (heading_text, number, own_id, body) in enumerate(sections):
        answer = markdown_to_text(body)
        if not answer:
            builder.warnings.append(f"{where}:{number}: {heading_text!r} has no text; skipped")
            continue
        own_alt = [*(section_alt.get(own_id or slug(heading_text), ([], 0))[0])]
        builder.add(
            entry_id=f"{prefix}/{own_id or slug(heading_text)}",
            explicit=own_id is not None,
            title=heading_text,
            answer=answer,
            kind="markdown",
            where=where,
            line=number,
            topic=title or "",
            alt=own_alt + (page_alt if index == 0 else []),
        )
    if not intro and not sections:
        builder.warnings.append(f"{where}: no text; skipped")


def _front_matter_alt(text: str, where: str) -> tuple[list[str], dict[str, tuple[list[str], int]]]:
    """`alt` of a Markdown page's front matter (`text` from its opening `---`, so lines
    match the file's): a list (phrasings of the page's first entry) or a mapping from a
    section's id or heading slug to its list."""
    if "alt" not in text:
        return [], {}
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise KnowledgeError(
            where, mark.line + 1 if mark is not None else 1, "front matter is not valid YAML"
        ) from None
    if not isinstance(root, yaml.MappingNode):
        return [], {}
    for key_node, value in root.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.value != "alt":
            continue
        if isinstance(value, yaml.MappingNode):
            return [], {
                _scalar(k, where, "a section id"): (
                    _alt_list(v, where),
                    k.start_mark.line + 1,
                )
                for k, v in value.value
            }
        return _alt_list(value, where), {}
    return [], {}


def _alt_list(node: yaml.Node, where: str) -> list[str]:
    """An `alt` value: one phrasing or a list of them."""
    if isinstance(node, yaml.SequenceNode):
        return [_scalar(item, where, "each alt") for item in node.value]
    return [_scalar(node, where, "alt")]


def _scalar(node: yaml.Node, where: str, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise KnowledgeError(where, node.start_mark.line + 1, f"{what} must be text")
    if node.tag == "tag:yaml.org,2002:null":
        return ""
    return str(node.value)


def _load_yaml(text: str, where: str, prefix: str, builder: _Builder) -> None:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise KnowledgeError(
            where,
            mark.line + 1 if mark is not None else None,
            f"not valid YAML: {problem} (put text with : ? # , [ or ] in quotes)",
        ) from None
    if root is None:
        builder.warnings.append(f"{where}: empty; skipped")
        return
    if not isinstance(root, yaml.SequenceNode):
        raise KnowledgeError(
            where, root.start_mark.line + 1, "must be a list of entries like `- q: … a: …`"
        )
    for item in root.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            raise KnowledgeError(where, line, "each entry must be a mapping with q and a")
        values: dict[str, yaml.Node] = {}
        for key_node, value_node in item.value:
            key = _scalar(key_node, where, "a key")
            if key not in YAML_KEYS:
                raise KnowledgeError(
                    where,
                    key_node.start_mark.line + 1,
                    f"unknown key {key!r}; an entry has {', '.join(YAML_KEYS)}",
                )
            values[key] = value_node
        for required in ("q", "a"):
            if required not in values:
                raise KnowledgeError(where, line, f"the entry has no {required!r}")
        question = _scalar(values["q"], where, "q")
        answer = _scalar(values["a"], where, "a")
        if not question.strip():
            raise KnowledgeError(where, values["q"].start_mark.line + 1, "q is empty")
        if not answer.strip():
            raise KnowledgeError(where, values["a"].start_mark.line + 1, "a is empty")
        alt_node = values.get("alt")
        alt = _alt_list(alt_node, where) if alt_node is not None else []
        own_id = _scalar(values["id"], where, "id").strip() if "id" in values else None
        if own_id is not None and not _ID_RE.fullmatch(own_id):
            raise KnowledgeError(
                where,
                values["id"].start_mark.line + 1,
                f"id {own_id!r}: use a-z, 0-9, '.', '_' and '-', starting with a letter or digit",
            )
        builder.add(
            entry_id=f"{prefix}/{own_id or slug(question)}",
            explicit=own_id is not None,
            title=question,
            answer=answer,
            kind="yaml",
            where=where,
            line=line,
            alt=alt,
        )


def _knowledge_files(
    path: Path, limits: KbLimits, within: Path | None = None, skip: Path | None = None
) -> list[tuple[Path, Path]]:
    """(file, path relative to the knowledge folder) of every knowledge file, sorted;
    with `within`, each must resolve into that folder (a link out is refused). `skip`: the
    synonyms file, which may sit in the folder but holds no entries."""
    if path.is_file():
        return [(_inside(path, within), Path(path.name))]
    if not path.is_dir():
        raise KnowledgeError(str(path), None, "no such file or folder")
    found: list[tuple[Path, Path]] = []
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for name in sorted(files):
            if name.startswith(".") or not name.lower().endswith(MARKDOWN_SUFFIXES + YAML_SUFFIXES):
                continue
            file = _inside(Path(folder) / name, within)
            if skip is not None and file.resolve() == skip.resolve():
                continue
            found.append((file, file.relative_to(path)))
            if len(found) > limits.max_files:
                raise KnowledgeError(
                    str(path), None, f"more than {limits.max_files} knowledge files (the limit)"
                )
    return sorted(found, key=lambda pair: pair[1].as_posix())


def _inside(file: Path, within: Path | None) -> Path:
    if within is not None and not file.resolve().is_relative_to(within):
        raise KnowledgeError(
            str(file),
            None,
            f"leads outside {within} (a link); set knowledge.allow_outside: true to load it",
        )
    return file


def knowledge_signature(path: Path | None, synonyms: Path | None = None) -> Signature:
    """Mtimes and sizes of the knowledge files (and of the synonyms file): a few `stat`
    calls, cheap to poll."""
    extra: Signature = ()
    if synonyms is not None:
        try:
            stat = synonyms.stat()
            extra = (("?synonyms", stat.st_mtime_ns, stat.st_size),)
        except OSError:
            extra = (("?synonyms", 0, 0),)
    if path is None:
        return extra
    try:
        files = _knowledge_files(path, KbLimits(max_files=10_000), skip=synonyms)
    except KnowledgeError:
        return (("?missing", 0, 0), *extra)
    signature = list(extra)
    for file, relative in files:
        try:
            stat = file.stat()
        except OSError:
            continue
        signature.append((relative.as_posix(), stat.st_mtime_ns, stat.st_size))
    return tuple(signature)


def _profile_entries(profile: BusinessProfile, builder: _Builder) -> None:
    where = "business profile"
    builder.add(
        entry_id="profile/name",
        explicit=True,
        title="Who is texting",
        answer=f"This is {profile.name}.",
        kind="profile",
        where=where,
        line=None,
        alt=("Who is this?", "What business is this?"),
        keywords=f"who name {profile.name}",
    )
    hours = profile.hours_text()
    if hours:
        answer = f"We're open {hours}."
        holidays = profile.holidays_text()
        if holidays:
            answer += f" Closed on {holidays}."
        open_days = " ".join(_DAY_NAMES[d] for d in profile.open_days())
        builder.add(
            entry_id="profile/hours",
            explicit=True,
            title="Opening hours",
            answer=answer,
            kind="profile",
            where=where,
            line=None,
            alt=(
                "When are you open?",
                "What time do you open and close?",
                "What days are you closed?",
            ),
            keywords=f"hours open close time today tomorrow weekend week {open_days}",
        )
    if profile.contact.strip():
        builder.add(
            entry_id="profile/contact",
            explicit=True,
            title="How to contact us",
            answer=profile.contact,
            kind="profile",
            where=where,
            line=None,
            alt=("What is your phone number?", "How can I reach you?"),
            keywords="contact phone number call email website reach",
        )


def load_knowledge(
    path: Path | None,
    *,
    faq: Sequence[_QuestionAnswer] = (),
    profile: BusinessProfile | None = None,
    limits: KbLimits = DEFAULT_LIMITS,
    within: Path | None = None,
    synonyms: Path | None = None,
) -> KnowledgeBase:
    """Load a knowledge folder (or one file), inline FAQ items, the profile and the
    business's synonym groups (`synonyms`, a YAML file); with `within`, only files that
    resolve into that folder.

    Raises `KnowledgeError` naming the file and line of the first problem."""
    # circular: the synonyms loader raises this module's KnowledgeError
    from bridge.ai.knowledge_synonyms import load_synonyms

    # the signature before reading: a change while reading shows at the next poll
    signature = knowledge_signature(path, synonyms)
    groups = load_synonyms(_inside(synonyms, within)) if synonyms is not None else ()
    builder = _Builder(limits)
    if profile is not None:
        _profile_entries(profile, builder)
    for index, item in enumerate(faq):
        alt = getattr(item, "alt", ())
        own_id = getattr(item, "id", None)
        alt_list = [alt] if isinstance(alt, str) else [str(a) for a in alt or ()]
        builder.add(
            entry_id=f"inline/{own_id or slug(item.q)}",
            explicit=bool(own_id),
            title=item.q,
            answer=item.a,
            kind="faq",
            where=f"knowledge.faq[{index}]",
            line=None,
            alt=alt_list,
        )
    learned: tuple[str, str, str] | None = None  # learned.yml: (text, where, prefix)
    if path is not None:
        for file, relative in _knowledge_files(path, limits, within, skip=synonyms):
            where = str(file)
            try:
                size = file.stat().st_size
                if size > limits.max_file_bytes:
                    raise KnowledgeError(
                        where, None, f"{size} bytes; a file may have {limits.max_file_bytes}"
                    )
                raw = file.read_bytes()
            except OSError as exc:
                raise KnowledgeError(where, None, f"cannot read: {exc.strerror}") from None
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                line = raw[: exc.start].count(b"\n") + 1
                raise KnowledgeError(where, line, "not UTF-8 text") from None
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            prefix = _file_prefix(relative)
            if file.suffix.lower() in MARKDOWN_SUFFIXES:
                _load_markdown(text, where, prefix, builder)
            elif relative.as_posix() == LEARNED_FILE and path.is_dir():
                learned = (text, where, prefix)
            else:
                _load_yaml(text, where, prefix, builder)
        if learned is not None:  # last: it adds to what the other files say
            text, where, prefix = learned
            found = _Builder(limits)
            _load_yaml(text, where, prefix, found)
            for entry in found.entries:
                at = entry.origin.rsplit(":", 1)[-1]
                builder.learn(entry, where, int(at) if at.isdigit() else None)
    return KnowledgeBase(
        entries=tuple(builder.entries),
        profile=profile,
        signature=signature,
        warnings=tuple(builder.warnings),
        synonyms=groups,
    )


class KnowledgeSource:
    """The current knowledge base of one business, reloaded when its files change.

    `load()` at start (raises); then poll `reload_if_changed()` (a few `stat` calls while
    nothing changed; on a change it reads the files, so run it in a thread). A reload that
    fails raises and keeps the previous base in `current`.
    """

    def __init__(
        self,
        path: Path | None,
        *,
        faq: Sequence[_QuestionAnswer] = (),
        profile: BusinessProfile | None = None,
        limits: KbLimits = DEFAULT_LIMITS,
        within: Path | None = None,
        synonyms: Path | None = None,
    ) -> None:
        self.path = path
        self.synonyms = synonyms
        self.within = within  # the config's folder, unless knowledge.allow_outside
        self._faq = tuple(faq)
        self._profile = profile
        self._limits = limits
        self._current: KnowledgeBase | None = None
        self._failed: Signature | None = None

    @property
    def current(self) -> KnowledgeBase:
        if self._current is None:
            raise RuntimeError("KnowledgeSource.load() was not called")
        return self._current

    def load(self) -> KnowledgeBase:
        self._current = load_knowledge(
            self.path,
            faq=self._faq,
            profile=self._profile,
            limits=self._limits,
            within=self.within,
            synonyms=self.synonyms,
        )
        self._failed = None
        return self._current

    def changed(self) -> bool:
        signature = knowledge_signature(self.path, self.synonyms)
        return signature != self.current.signature and signature != self._failed

    def reload_if_changed(self) -> KnowledgeBase | None:
        """The new base if the files changed (and loaded), else None.

        A broken edit raises `KnowledgeError` once; it is not retried until the files
        change again."""
        if self._current is not None and not self.changed():
            return None
        try:
            return self.load()
        except KnowledgeError:
            self._failed = knowledge_signature(self.path, self.synonyms)
            raise


def knowledge_source(config: BusinessConfig) -> KnowledgeSource:
    """The knowledge base `config` describes, not loaded yet: `serve` and `check` load
    the same one."""
    return KnowledgeSource(
        config.knowledge.path,
        within=config.knowledge.within,
        synonyms=config.knowledge.synonyms,
        faq=config.knowledge.faq,
        profile=BusinessProfile.from_config(config.business),
    )
