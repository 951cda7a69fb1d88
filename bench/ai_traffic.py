"""`bench/ai_learn.py --traffic FILE`: learning from the team, measured on a week of a
business's traffic (FILE: `needs` and `texts` in arrival order; see
bench/ai_kb/traffic.yml).

The offline engine drafts the week's texts in order. A text of the FIRST HALF that it
hands off and whose need an agent answers is taught as an approving admin would, through
the bridge's own path, before the next text is drafted: the teach dialog's default
(LearningDesk.form: the wording as a phrasing of an entry it offers whose answer says what
the agent said, else a new entry with the agent's answer), written to learned.yml in a
copy of the knowledge folder by the bridge's writer and read back by its loader. Then the
SECOND HALF is drafted with the learned base and, separately, without it. Right means
answered from an entry that says the agent's answer: the need's entry in the base, or one
learning made for that need (by id); the gain is (right with learning - right without) in
points over the second half's texts that need an answer. One-offs (`person`) of the whole
week, drafted with the final learned base and without, must stay >= 90 % handed off;
answers with a wrong entry <= 3 %.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml
from ai_eval import (
    ESCALATE,
    TARGET_RECALL,
    TARGET_WRONG,
    Outcome,
    Question,
    Report,
    load_kb,
    pct,
    run,
)

from bridge.ai.knowledge import KnowledgeBase, question_key
from bridge.ai.learned_file import write_lesson
from bridge.ai.learning_desk import CANDIDATES, suggestion
from bridge.ai.offline import OfflineDrafter
from bridge.models import Lesson

TARGET_GAIN = 10.0  # points
PERSON = "person"  # a one-off a person must handle


@dataclass(frozen=True)
class Need:
    id: str
    entry: str | None  # the base's entry the agent answers with; None: the base lacks it
    answer: str


@dataclass(frozen=True)
class Text:
    text: str
    need: str  # a Need's id, or PERSON


def load_traffic(path: Path, kb: KnowledgeBase) -> tuple[dict[str, Need], list[Text]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    needs: dict[str, Need] = {}
    for item in raw["needs"]:
        entry = item.get("entry")
        found = kb.get(entry) if entry else None
        if entry and found is None:
            raise SystemExit(f"{path}: need {item['id']} names {entry}, not in the base")
        answer = found.answer if found is not None else str(item["answer"])
        needs[str(item["id"])] = Need(str(item["id"]), entry, answer)
    texts = [Text(str(t["q"]), str(t["need"])) for t in raw["texts"]]
    unknown = sorted({t.need for t in texts} - {*needs, PERSON})
    if unknown:
        raise SystemExit(f"{path}: texts name needs it does not list: {unknown}")
    return needs, texts


def taught_entry(kb: KnowledgeBase, wording: str) -> str:
    """The id of the entry that asks `wording` (a lesson's question) after a reload."""
    key = question_key(wording)
    return next(e.id for e in kb.entries if key in {question_key(t) for t in (e.title, *e.alt)})


def as_question(text: Text) -> Question:
    expect = ESCALATE if text.need == PERSON else text.need
    return Question(text.text, expect, "traffic", None, "normal", "traffic")


@dataclass
class Week:
    """What the first half taught."""

    handed_off: int = 0  # texts of the first half with an agent-answerable need
    as_alt: int = 0
    as_new: int = 0
    not_offered: int = 0  # lessons the dialog could not file under the need's entry
    made: dict[str, set[str]] = field(default_factory=dict)  # need -> entries learning made

    def answers(self, need: Need, *, learned: bool) -> set[str]:
        """The entries that answer `need` right, with or without what was learned."""
        known = {need.entry} if need.entry else set()
        return known | self.made.get(need.id, set()) if learned else known


async def teach_first_half(
    config: Path, folder: Path, needs: dict[str, Need], first: list[Text]
) -> Week:
    week = Week()
    engine = OfflineDrafter()
    kb = load_kb(config)
    for n, text in enumerate(first):
        [outcome] = await run(engine, kb, [as_question(text)], 1)
        need = needs.get(text.need)
        if need is None or not outcome.escalated:
            continue  # a one-off, or not handed off: no offer to teach
        week.handed_off += 1
        offered = engine.retrieve(text.text, kb, k=CANDIDATES).hits  # as the dialog does
        entry = suggestion((hit.entry for hit in offered), need.answer)
        known = week.answers(need, learned=True)
        week.not_offered += bool(known) and entry not in known
        lesson = Lesson(
            id=f"traffic-{n}",
            conversation_id=n,
            question=text.text,
            answer=None if entry else need.answer,
            entry_id=entry,
            proposed_by="UBENCH",
            proposed_at=datetime.now(UTC),
        )
        write_lesson(folder, lesson, kb)
        kb = load_kb(config)  # what the desk's reload does after an approval
        if entry is None:
            week.as_new += 1
            week.made.setdefault(need.id, set()).add(taught_entry(kb, text.text))
        else:
            week.as_alt += 1
    return week


def right(outcome: Outcome, answers: set[str]) -> bool:
    return outcome.answered_with in answers


def wrong(outcome: Outcome, answers: set[str]) -> bool:
    return outcome.answered_with is not None and outcome.answered_with not in answers


async def evaluate_traffic(config: Path, folder: Path, traffic: Path, report: Report) -> float:
    """`config`: a copy of the business (learned.yml goes to `folder`); the gain."""
    base = load_kb(config)
    needs, texts = load_traffic(traffic, base)
    half = len(texts) // 2
    first, second = texts[:half], texts[half:]
    week = await teach_first_half(config, folder, needs, first)
    learned = load_kb(config)
    ask = [t for t in second if t.need != PERSON]
    persons = [as_question(t) for t in texts if t.need == PERSON]
    with_o = await run(OfflineDrafter(), learned, [as_question(t) for t in ask], 1)
    without_o = await run(OfflineDrafter(), base, [as_question(t) for t in ask], 1)
    # What learning costs the first half's texts too (the taught ones are answered now).
    week_q = [as_question(t) for t in first if t.need != PERSON]
    week_with = with_o + await run(OfflineDrafter(), learned, week_q, 1)
    week_without = without_o + await run(OfflineDrafter(), base, week_q, 1)
    person_with = await run(OfflineDrafter(), learned, persons, 1)
    person_without = await run(OfflineDrafter(), base, persons, 1)

    def count(
        outcomes: list[Outcome], judge: Callable[[Outcome, set[str]], bool], learnt: bool
    ) -> int:
        return sum(
            judge(o, week.answers(needs[o.question.expect], learned=learnt)) for o in outcomes
        )

    covered = {n.id for n in needs.values() if n.entry}
    in_base = sum(t.need in covered for t in texts)
    report.add(
        "texts: need in the base + need not in it + one-offs",
        f"{in_base} + {len(texts) - in_base - len(persons)} + {len(persons)}",
    )
    report.add("needs: in the base / not", f"{len(covered)} / {len(needs) - len(covered)}")
    report.add(
        "1st half: texts handed off that an agent answers (all taught)",
        f"{week.handed_off} of {sum(t.need != PERSON for t in first)}",
    )
    report.add(
        "  taught as a phrasing of an entry / as a new entry (the dialog's default)",
        f"{week.as_alt} / {week.as_new} ({len(learned) - len(base)} entries added)",
    )
    report.add(
        "  the need had an entry already, the dialog's default was another",
        str(week.not_offered),
    )
    n = len(ask)
    right_with, right_without = count(with_o, right, True), count(without_o, right, False)
    gain = 100 * (right_with - right_without) / n if n else 0.0
    report.add("2nd half: answered right without learning", pct(right_without, n))
    report.add("2nd half: answered right with learning", pct(right_with, n))
    report.add(
        "2nd half: gain (points)",
        f"{gain:+.1f}",
        f">= {TARGET_GAIN:.0f}: {'met' if gain >= TARGET_GAIN else 'NOT met'}",
    )
    for label, keep in (("need in the base", True), ("need not in the base", False)):
        part_with = [o for o in with_o if (o.question.expect in covered) == keep]
        part_without = [o for o in without_o if (o.question.expect in covered) == keep]
        report.add(
            f"  {label}: right without → with",
            f"{pct(count(part_without, right, False), len(part_without))} → "
            f"{pct(count(part_with, right, True), len(part_with))}",
        )
    wrong_with = count(with_o, wrong, True)
    report.add(
        "2nd half: answered with a wrong entry, without → with",
        f"{pct(count(without_o, wrong, False), n)} → {pct(wrong_with, n)}",
        f"<= {TARGET_WRONG:.0%}: {'met' if n and wrong_with / n <= TARGET_WRONG else 'NOT met'}",
    )
    report.add(
        "whole week: answered with a wrong entry, without → with",
        f"{pct(count(week_without, wrong, False), len(week_q) + n)} → "
        f"{pct(count(week_with, wrong, True), len(week_q) + n)}",
    )
    caught = sum(o.escalated for o in person_with)
    report.add(
        "one-offs of the whole week handed off, without → with learning",
        f"{pct(sum(o.escalated for o in person_without), len(persons))} → "
        f"{pct(caught, len(persons))}",
        f">= {TARGET_RECALL:.0%}: "
        f"{'met' if persons and caught / len(persons) >= TARGET_RECALL else 'NOT met'}",
    )
    return gain
