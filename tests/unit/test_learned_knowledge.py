"""learned.yml: what admins approved, merged into the knowledge base at load and
written atomically (reviewable in git)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from bridge.ai.knowledge import KnowledgeError, load_knowledge
from bridge.ai.learned_file import LEARNED_FILE, write_lesson
from bridge.models import Lesson

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
FAQ = (
    "- q: Do you take credit cards?\n  a: Yes, all major cards.\n"
    "- q: Where can I park?\n  a: Behind the shop.\n"
)


def lesson(question: str, *, entry: str | None = None, answer: str | None = None) -> Lesson:
    return Lesson(
        id=f"m-{question[:8]}",
        conversation_id=1,
        question=question,
        answer=answer,
        entry_id=entry,
        proposed_by="U1",
        proposed_at=T0,
    )


def test_a_learned_question_that_exists_is_merged_as_a_phrasing(tmp_path: Path) -> None:
    (tmp_path / "faq.yml").write_text(FAQ, encoding="utf-8")
    (tmp_path / LEARNED_FILE).write_text(
        "- q: do you take credit cards?\n  a: Yes.\n  alt: [can i pay w visa]\n"
        "- q: Do you do gift wrap?\n  a: Yes, free of charge.\n",
        encoding="utf-8",
    )
    kb = load_knowledge(tmp_path)
    cards = [e for e in kb.entries if e.title.lower().startswith("do you take credit")]
    assert len(cards) == 1  # merged, not added twice
    assert cards[0].id == "faq/do-you-take-credit-cards"
    assert cards[0].answer == "Yes, all major cards."  # the base's own answer stays
    assert cards[0].alt == ("can i pay w visa",)
    wrap = kb.get("learned/do-you-do-gift-wrap")
    assert wrap is not None
    assert wrap.answer == "Yes, free of charge."


def test_a_phrasing_lesson_is_written_as_the_entrys_question_with_an_alt(tmp_path: Path) -> None:
    (tmp_path / "faq.yml").write_text(FAQ, encoding="utf-8")
    kb = load_knowledge(tmp_path)
    write_lesson(tmp_path, lesson("can i pay w visa", entry="faq/do-you-take-credit-cards"), kb)
    write_lesson(tmp_path, lesson("CAN I PAY W VISA", entry="faq/do-you-take-credit-cards"), kb)
    write_lesson(tmp_path, lesson("u take amex?", entry="faq/do-you-take-credit-cards"), kb)
    write_lesson(tmp_path, lesson("do you gift wrap", answer="Yes, for free!"), kb)
    written = yaml.safe_load((tmp_path / LEARNED_FILE).read_text(encoding="utf-8"))
    assert written == [
        {
            "id": "faq-do-you-take-credit-cards",
            "q": "Do you take credit cards?",
            "a": "Yes, all major cards.",
            "alt": ["can i pay w visa", "u take amex?"],
        },
        {"id": "do-you-gift-wrap", "q": "do you gift wrap", "a": "Yes, for free!", "alt": []},
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faq.yml", LEARNED_FILE]  # no temp
    merged = load_knowledge(tmp_path)
    cards = merged.get("faq/do-you-take-credit-cards")
    assert cards is not None
    assert cards.alt == ("can i pay w visa", "u take amex?")
    assert len(merged) == len(kb) + 1


def test_a_new_entry_asking_a_learned_question_again_adds_no_second_entry(
    tmp_path: Path,
) -> None:
    (tmp_path / "faq.yml").write_text(FAQ, encoding="utf-8")
    kb = load_knowledge(tmp_path)
    write_lesson(tmp_path, lesson("Do you gift wrap?", answer="Yes."), kb)
    write_lesson(tmp_path, lesson("do you gift wrap", answer="Yes, for free."), kb)
    written = yaml.safe_load((tmp_path / LEARNED_FILE).read_text(encoding="utf-8"))
    assert [item["q"] for item in written] == ["Do you gift wrap?"]


def test_a_broken_learned_file_is_refused_with_its_line_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "faq.yml").write_text(FAQ, encoding="utf-8")
    kb = load_knowledge(tmp_path)
    broken = "- q: ok\n  a: fine\n- q: two\n  answer: a key the loader refuses\n"
    (tmp_path / LEARNED_FILE).write_text(broken, encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        write_lesson(tmp_path, lesson("do you gift wrap", answer="Yes."), kb)
    assert caught.value.where.endswith(LEARNED_FILE)
    assert caught.value.line == 4
    assert (tmp_path / LEARNED_FILE).read_text(encoding="utf-8") == broken


def test_a_phrasing_of_an_entry_that_is_gone_is_refused(tmp_path: Path) -> None:
    (tmp_path / "faq.yml").write_text(FAQ, encoding="utf-8")
    kb = load_knowledge(tmp_path)
    with pytest.raises(KnowledgeError, match="faq/gone"):
        write_lesson(tmp_path, lesson("hello", entry="faq/gone"), kb)
    assert not (tmp_path / LEARNED_FILE).exists()
