"""The knowledge base stays inside the config file's folder (links resolved), unless the
operator sets `knowledge.allow_outside: true`."""

from pathlib import Path

import pytest

from bridge.ai.knowledge import KnowledgeError, KnowledgeSource
from bridge.config import ConfigError, load_business_config
from bridge.sandbox.demo_sample import SAMPLE_DIR, write_business_config

ENTRY = "## Delivery\nWithin 5 km.\n"


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """The config's folder (with a kb/ folder) and a folder elsewhere on the host."""
    config, elsewhere = tmp_path / "config", tmp_path / "elsewhere"
    (config / "kb").mkdir(parents=True)
    (config / "kb" / "orders.md").write_text(ENTRY)
    elsewhere.mkdir()
    (elsewhere / "secrets.md").write_text("## Root password\nhunter2\n")
    return config, elsewhere


def config_file(folder: Path, knowledge: str) -> Path:
    path = folder / "business.yml"
    path.write_text(f"knowledge: {knowledge}\n")
    return path


def source(path: Path) -> KnowledgeSource:
    knowledge = load_business_config(path).knowledge
    return KnowledgeSource(knowledge.path, within=knowledge.within)


def test_a_folder_inside_loads(folders: tuple[Path, Path]) -> None:
    config, _ = folders
    kb = source(config_file(config, "{path: kb/}")).load()
    assert [e.id for e in kb.entries] == ["orders/delivery"]


@pytest.mark.parametrize("where", ["../elsewhere", "{elsewhere}", "kb/../../elsewhere"])
def test_a_path_outside_the_config_folder_is_refused(
    folders: tuple[Path, Path], where: str
) -> None:
    config, elsewhere = folders
    path = config_file(config, "{path: " + where.format(elsewhere=elsewhere) + "}")
    with pytest.raises(ConfigError) as refused:
        load_business_config(path)
    message = str(refused.value)
    assert "knowledge.path" in message
    assert "knowledge.allow_outside: true" in message
    assert "\n" not in message


def test_a_folder_inside_that_links_outside_counts_as_outside(
    folders: tuple[Path, Path],
) -> None:
    config, elsewhere = folders
    (config / "linked").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(ConfigError, match=r"knowledge\.path"):
        load_business_config(config_file(config, "{path: linked}"))


def test_a_file_inside_that_links_outside_is_not_loaded(folders: tuple[Path, Path]) -> None:
    config, elsewhere = folders
    (config / "kb" / "faq.md").symlink_to(elsewhere / "secrets.md")
    with pytest.raises(KnowledgeError, match=r"knowledge\.allow_outside: true"):
        source(config_file(config, "{path: kb/}")).load()


def test_allow_outside_lets_the_operator_point_anywhere(folders: tuple[Path, Path]) -> None:
    config, elsewhere = folders
    (config / "kb" / "faq.md").symlink_to(elsewhere / "secrets.md")
    inside = source(config_file(config, "{path: kb/, allow_outside: true}")).load()
    assert "hunter2" in inside.render()
    outside = source(config_file(config, f"{{path: {elsewhere}, allow_outside: true}}")).load()
    assert [e.id for e in outside.entries] == ["secrets/root-password"]


def test_the_demos_copy_of_a_config_keeps_the_rule_of_its_original(
    folders: tuple[Path, Path], tmp_path: Path
) -> None:
    demo = tmp_path / "demo"
    demo.mkdir()
    sample = load_business_config(write_business_config(demo / "sample.yml"))
    assert sample.knowledge.path == demo / "kb"  # a copy: the demo learns into it
    assert sorted(p.name for p in (demo / "kb").iterdir()) == sorted(
        p.name for p in (SAMPLE_DIR / "kb").iterdir()
    )
    config, _ = folders
    outside = write_business_config(demo / "yours.yml", config_file(config, "{path: ../elsewhere}"))
    with pytest.raises(ConfigError, match=r"knowledge\.allow_outside: true"):
        load_business_config(outside)
