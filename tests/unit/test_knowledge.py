import os
from pathlib import Path

import pytest

from bridge.ai.knowledge import (
    BusinessProfile,
    FaqItem,
    KbLimits,
    KnowledgeError,
    KnowledgeSource,
    knowledge_signature,
    load_knowledge,
    markdown_to_text,
    slug,
)
from bridge.config import Business, FaqEntry


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_markdown_sections_become_entries(tmp_path: Path) -> None:
    write(
        tmp_path,
        "orders.md",
        "---\nauthor: someone\n---\n# Orders and pick-up\n\nWe bake to order.\n\n"
        "## Delivery\nWithin **5 km**, see [our map](https://example.com/map).\n\n"
        "- weekdays only\n- $6\n\n"
        "## Pick-up times {#pickup}\nUntil closing.\n\n"
        "```\n## not a heading\n```\n",
    )
    kb = load_knowledge(tmp_path)
    assert [e.id for e in kb.entries] == ["orders", "orders/delivery", "orders/pickup"]
    intro, delivery, pickup = kb.entries
    assert intro.title == "Orders and pick-up"
    assert intro.answer == "We bake to order."
    assert delivery.title == "Delivery"
    assert delivery.topic == "Orders and pick-up"
    assert delivery.answer == (
        "Within 5 km, see our map (https://example.com/map).\nweekdays only\n$6"
    )
    assert delivery.origin == f"{tmp_path / 'orders.md'}:8"
    assert pickup.title == "Pick-up times"
    assert "## not a heading" in pickup.answer  # a heading inside a code fence stays text
    assert kb.get("orders/pickup") is pickup


def test_a_file_without_sections_is_one_entry_and_folders_prefix_ids(tmp_path: Path) -> None:
    write(tmp_path, "menus/Cakes & Tarts.md", "# Cakes\n\nAll cakes are made to order.\n")
    write(tmp_path, "notes.md", "Plain text without any heading.\n")
    write(tmp_path, "image.png", "not knowledge")
    write(tmp_path, ".hidden.md", "## Secret\nno\n")
    kb = load_knowledge(tmp_path)
    assert {e.id: e.title for e in kb.entries} == {
        "menus/cakes-tarts": "Cakes",
        "notes": "Notes",
    }


def test_duplicate_headings_get_a_suffix_and_empty_sections_a_warning(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "## Notes\none\n## Notes\ntwo\n## Empty\n\n")
    kb = load_knowledge(tmp_path)
    assert [e.id for e in kb.entries] == ["a/notes", "a/notes-2"]
    assert len(kb.warnings) == 1
    assert "a.md:5" in kb.warnings[0]
    assert "'Empty'" in kb.warnings[0]


def test_yaml_questions_with_paraphrases_and_ids(tmp_path: Path) -> None:
    write(
        tmp_path,
        "faq.yml",
        "# comment\n"
        "- q: Do you deliver?\n  a: Yes, within 5 km.\n"
        "  alt: ['Can you bring it to me?', Delivery]\n"
        "- id: pay\n  q: Can I pay by card?\n  a: 'yes'\n  alt: Do you take cards?\n",
    )
    kb = load_knowledge(tmp_path)
    deliver, pay = kb.entries
    assert deliver.id == "faq/do-you-deliver"
    assert deliver.alt == ("Can you bring it to me?", "Delivery")
    assert deliver.kind == "yaml"
    assert deliver.origin.endswith("faq.yml:2")
    assert pay.id == "faq/pay"
    assert pay.answer == "yes"  # a YAML boolean-looking answer stays text
    assert pay.alt == ("Do you take cards?",)


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("- q: a\n  a: [unclosed\n", "faq.yml:3", "not valid YAML"),
        ("- q: Open?\n  a: x\n  alt: [Sunday?, Monday]\n", "faq.yml:3", "in quotes"),
        ("q: Do you deliver?\na: Yes\n", "faq.yml:1", "must be a list"),
        ("- q: ok\n  a: fine\n- just text\n", "faq.yml:3", "must be a mapping"),
        ("- q: ok\n  answer: fine\n", "faq.yml:2", "unknown key 'answer'"),
        ("- q: ok\n  alt: [x]\n", "faq.yml:1", "no 'a'"),
        ("- q: ok\n  a:\n", "faq.yml:2", "a is empty"),
        ("- q: [a, list]\n  a: fine\n", "faq.yml:1", "q must be text"),
        ("- id: Bad Id\n  q: ok\n  a: fine\n", "faq.yml:1", "id 'Bad Id'"),
        ("- {id: x, q: one, a: 1}\n- {id: x, q: two, a: 2}\n", "faq.yml:2", "already used"),
    ],
)
def test_yaml_errors_name_the_file_and_line(
    tmp_path: Path, text: str, where: str, message: str
) -> None:
    write(tmp_path, "faq.yml", text)
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(tmp_path)
    assert str(caught.value).startswith(str(tmp_path / where))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_markdown_errors_name_the_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "# Title\n\n## Fine\ntext\n\n## Bad {#No Spaces}\ntext\n")
    with pytest.raises(KnowledgeError, match=r"a\.md:6: \{#No"):
        load_knowledge(tmp_path)
    (tmp_path / "a.md").write_bytes(b"## Ok\nfine\n## Latin-1\ncaf\xe9\n")
    with pytest.raises(KnowledgeError, match=r"a\.md:4: not UTF-8"):
        load_knowledge(tmp_path)


def test_limits(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "## One\n1\n## Two\n2\n## Three\n3\n")
    with pytest.raises(KnowledgeError, match=r"a\.md:5: more than 2 entries"):
        load_knowledge(tmp_path, limits=KbLimits(max_entries=2))
    with pytest.raises(KnowledgeError, match=r"a\.md:1: the answer to 'One' has 1 characters"):
        load_knowledge(tmp_path, limits=KbLimits(max_answer_chars=0))
    with pytest.raises(
        KnowledgeError, match="'One' has 3 characters; a question or heading may have 2"
    ):
        load_knowledge(tmp_path, limits=KbLimits(max_title_chars=2))
    with pytest.raises(KnowledgeError, match="bytes; a file may have 10"):
        load_knowledge(tmp_path, limits=KbLimits(max_file_bytes=10))
    write(tmp_path, "b.md", "## Four\n4\n")
    with pytest.raises(KnowledgeError, match="more than 1 knowledge files"):
        load_knowledge(tmp_path, limits=KbLimits(max_files=1))
    write(tmp_path, "c.yml", "- q: x\n  a: y\n  alt: [a, b, c]\n")
    with pytest.raises(KnowledgeError, match=r"c\.yml:1: 3 paraphrases"):
        load_knowledge(tmp_path, limits=KbLimits(max_alt=2))


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="no such file or folder"):
        load_knowledge(tmp_path / "nope")


def test_profile_and_inline_faq_are_entries() -> None:
    business = Business(
        name="Harbor Street Bakery",
        contact="Call (415) 555-0188",
        timezone="America/Los_Angeles",
        hours={"mon-fri": "07:00-18:00", "sat": "08:00-14:00"},
        holidays=["2026-12-25", "2027-01-01"],
    )
    profile = BusinessProfile.from_config(business)
    assert profile.hours_text() == "Mon-Fri 7:00-18:00, Sat 8:00-14:00; closed on Sunday"
    kb = load_knowledge(
        None,
        faq=[FaqEntry(q="Gluten-free?", a="Fridays."), FaqItem(q="Vegan?", a="Yes.", alt=("V",))],
        profile=profile,
    )
    assert {e.id: e.answer for e in kb.entries} == {
        "profile/name": "This is Harbor Street Bakery.",
        "profile/hours": "We're open Mon-Fri 7:00-18:00, Sat 8:00-14:00; closed on Sunday. "
        "Closed on Dec 25 and Jan 1.",
        "profile/contact": "Call (415) 555-0188",
        "inline/gluten-free": "Fridays.",
        "inline/vegan": "Yes.",
    }
    assert kb.get("inline/vegan") is not None
    assert kb.entries[-1].alt == ("V",)
    assert kb.entries[-1].origin == "knowledge.faq[1]"
    assert all(ch.isascii() for e in kb.entries for ch in e.answer)  # GSM-7 friendly


def test_profile_without_hours_or_contact() -> None:
    kb = load_knowledge(None, profile=BusinessProfile(name="Shop"))
    assert [e.id for e in kb.entries] == ["profile/name"]
    assert BusinessProfile(name="x", hours=(("fri-mon", "10:00-12:00"),)).open_days() == [
        "fri",
        "sat",
        "sun",
        "mon",
    ]


def test_version_follows_content_and_render_is_stable(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "## One\nfirst\n")
    first = load_knowledge(tmp_path)
    again = load_knowledge(tmp_path)
    assert first.version == again.version
    assert first.render() == again.render() == "[a/one] One\nfirst"
    write(tmp_path, "a.md", "## One\nchanged\n")
    assert load_knowledge(tmp_path).version != first.version


def test_signature_and_reload_on_change(tmp_path: Path) -> None:
    path = write(tmp_path, "a.md", "## One\nfirst\n")
    source = KnowledgeSource(tmp_path)
    kb = source.load()
    assert kb.signature == knowledge_signature(tmp_path)
    assert source.reload_if_changed() is None

    path.write_text("## One\nsecond\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse clocks
    fresh = source.reload_if_changed()
    assert fresh is not None
    assert fresh.entries[0].answer == "second"
    assert source.current is fresh

    write(tmp_path, "b.yml", "- q: broken\n")
    with pytest.raises(KnowledgeError, match=r"b\.yml:1"):
        source.reload_if_changed()
    assert source.current is fresh  # the last good base stays
    assert source.reload_if_changed() is None  # the same broken files are not re-read
    write(tmp_path, "b.yml", "- q: fixed\n  a: yes\n")
    fixed = source.reload_if_changed()
    assert fixed is not None
    assert len(fixed) == 2


def test_signature_of_nothing_and_of_a_missing_folder(tmp_path: Path) -> None:
    assert knowledge_signature(None) == ()
    assert knowledge_signature(tmp_path / "gone") == (("?missing", 0, 0),)


def test_single_file_path(tmp_path: Path) -> None:
    path = write(tmp_path, "faq.yaml", "- q: Hi?\n  a: Hello.\n")
    assert [e.id for e in load_knowledge(path).entries] == ["faq/hi"]


def test_text_helpers() -> None:
    assert slug("Seating & Wi-Fi!") == "seating-wi-fi"
    assert slug("Crème brûlée") == "creme-brulee"
    assert slug("???") == "entry"
    assert markdown_to_text(["### Sizes", "1. *small*", "2. __large__", "", "> quoted `code`"]) == (
        "Sizes:\nsmall\nlarge\nquoted code"
    )
    assert (
        markdown_to_text(["Mail <mailto:a@b.example> or ![logo](x.png)"])
        == "Mail a@b.example or logo"
    )
