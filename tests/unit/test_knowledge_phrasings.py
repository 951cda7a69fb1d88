"""Other phrasings (`alt`) in every kind of knowledge file and in `knowledge.faq`, and a
business's own synonym groups (`knowledge.synonyms`): loaded, used by the offline engine,
and refused with file:line when broken (the previous base kept)."""

from pathlib import Path

import pytest

from bridge.ai.knowledge import KnowledgeError, knowledge_source, load_knowledge
from bridge.ai.offline import OfflineDrafter
from bridge.config import load_business_config

PAGE = """---
alt:
  bike-fitting: ["my knees hurt when I ride"]
---
# Service

## Bike fitting
A professional fit takes 90 minutes and costs $150.

## Tune-ups
A basic tune-up is $79.
"""
QA = """- id: storage
  q: Do you store bikes over winter?
  alt: [somewhere to keep my bicycle till spring]
  a: From November to March for $80.
"""
CONFIG = """business: {name: Spoke and Chain}
knowledge:
  path: kb/
  synonyms: kb/synonyms.yml
  faq:
    - q: Do you sell gift cards?
      alt: [a present for a cyclist]
      a: Yes, from $20.
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "service.md").write_text(PAGE)
    (tmp_path / "kb" / "storage.yml").write_text(QA)
    (tmp_path / "kb" / "synonyms.yml").write_text("- [tune-up, service, overhaul]\n")
    path = tmp_path / "business.yml"
    path.write_text(CONFIG)
    return path


def test_alt_phrasings_load_from_every_source(config: Path) -> None:
    kb = knowledge_source(load_business_config(config)).load()
    by_id = {e.id: e for e in kb.entries}
    assert by_id["service/bike-fitting"].alt == ("my knees hurt when I ride",)
    assert by_id["storage/storage"].alt == ("somewhere to keep my bicycle till spring",)
    assert by_id["inline/do-you-sell-gift-cards"].alt == ("a present for a cyclist",)
    assert kb.synonyms == (("tune-up", "service", "overhaul"),)
    assert "synonyms/synonyms" not in by_id  # the synonyms file holds no entries


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("my knees hurt when I ride", "service/bike-fitting"),
        ("somewhere to keep my bicycle till spring?", "storage/storage"),
        ("a present for a cyclist?", "inline/do-you-sell-gift-cards"),
        ("how much is an overhaul", "service/tune-ups"),  # the business's own group
    ],
)
def test_phrasings_and_synonyms_are_used_by_retrieval(config: Path, text: str, entry: str) -> None:
    kb = knowledge_source(load_business_config(config)).load()
    draft = OfflineDrafter().draft_sync([("customer", text)], knowledge=kb)
    assert draft.sources == [entry]
    assert not draft.escalate


@pytest.mark.parametrize(
    ("file", "text", "line"),
    [
        ("synonyms.yml", "- [tune-up, service]\n- overhaul\n", 2),
        ("synonyms.yml", "- [tune-up, service]\n- [overhaul]\n", 2),
        ("synonyms.yml", "- [tune-up, {a: b}]\n", 1),
        ("storage.yml", "- q: Do you store bikes?\n  a: Yes.\n  alt: {a: b}\n", 3),
        ("service.md", "---\nalt:\n  no-such-section: [x]\n---\n## Tune-ups\n$79.\n", 3),
    ],
)
def test_a_broken_group_or_alt_is_refused_with_file_and_line_and_the_base_kept(
    config: Path, file: str, text: str, line: int
) -> None:
    source = knowledge_source(load_business_config(config))
    before = source.load()
    (config.parent / "kb" / file).write_text(text)
    with pytest.raises(KnowledgeError) as refused:
        source.reload_if_changed()
    assert refused.value.where.endswith(file)
    assert refused.value.line == line
    assert source.current is before


def test_a_page_without_front_matter_is_not_read_for_alt(tmp_path: Path) -> None:
    (tmp_path / "menu.md").write_text("# Menu\n\n## Salt\nalt: [sea salt: flaky]\n")
    kb = load_knowledge(tmp_path)
    assert [(e.id, e.alt) for e in kb.entries] == [("menu/salt", ())]
