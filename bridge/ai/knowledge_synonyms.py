"""A business's own synonym groups (`knowledge.synonyms`: a YAML file of lists), loaded with
its knowledge base: words and phrases that mean the same to its customers, added to the
offline engine's generic groups ("chart" = "records" at a dental clinic).

    - [financing, payment plan, carecredit]
    - [tune up, service, overhaul]

A broken group raises `KnowledgeError` with the file and line, so a reload keeps the
previous base, as for any knowledge file."""

from __future__ import annotations

from pathlib import Path

import yaml

from bridge.ai.knowledge import KnowledgeError

MAX_GROUPS = 500
MAX_MEMBER_CHARS = 60
SynonymGroups = tuple[tuple[str, ...], ...]


def load_synonyms(path: Path) -> SynonymGroups:
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise KnowledgeError(where, None, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise KnowledgeError(where, None, "not UTF-8 text") from None
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise KnowledgeError(where, line, f"not valid YAML: {exc}".splitlines()[0]) from None
    if root is None:
        return ()
    if not isinstance(root, yaml.SequenceNode):
        raise KnowledgeError(
            where, root.start_mark.line + 1, "must be a list of groups like `- [chart, records]`"
        )
    if len(root.value) > MAX_GROUPS:
        raise KnowledgeError(where, None, f"{len(root.value)} groups; the limit is {MAX_GROUPS}")
    groups: list[tuple[str, ...]] = []
    for node in root.value:
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.SequenceNode):
            raise KnowledgeError(where, line, "each group must be a list: `- [chart, records]`")
        members: list[str] = []
        for item in node.value:
            value = item.value if isinstance(item, yaml.ScalarNode) else None
            if not isinstance(value, str) or not value.strip():
                raise KnowledgeError(
                    where, item.start_mark.line + 1, "each member must be a word or phrase"
                )
            if len(value) > MAX_MEMBER_CHARS:
                raise KnowledgeError(
                    where, item.start_mark.line + 1, f"longer than {MAX_MEMBER_CHARS} characters"
                )
            members.append(value.strip())
        if len(members) < 2:
            raise KnowledgeError(where, line, "a group needs two or more words or phrases")
        groups.append(tuple(members))
    return tuple(groups)
