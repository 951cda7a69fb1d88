"""The demo's sample data keeps the scenarios' promises: each question a scenario asks is
answered clearly by the sample knowledge base in the conversation a fresh demo gives it,
each scenario is set at an hour that fits its title, and the files point at documents
the project has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bridge.ai.drafter import Turn
from bridge.ai.knowledge import BusinessProfile, KnowledgeBase, KnowledgeSource
from bridge.ai.offline import OfflineDrafter
from bridge.campaigns.models import Poll
from bridge.campaigns.poll_answers import read_poll_answer
from bridge.config import BusinessConfig, load_business_config
from bridge.sandbox.demo_clock import DemoClock, on_clock
from bridge.sandbox.demo_sample import (
    SAMPLE_DIR,
    Scenario,
    load_people,
    load_scenarios,
    write_business_config,
)
from bridge.slack.listeners.campaign_form import read_options
from bridge.threading.opening_hours import opening

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = {scenario.id: scenario for scenario in load_scenarios()}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[BusinessConfig, KnowledgeBase]:
    """The sample business and knowledge base, loaded as the demo's bridge loads them."""
    config = load_business_config(write_business_config(tmp_path_factory.mktemp("demo") / "b.yml"))
    knowledge = KnowledgeSource(
        config.knowledge.path,
        within=config.knowledge.within,
        faq=config.knowledge.faq,
        profile=BusinessProfile.from_config(config.business),
    )
    return config, knowledge.load()


def fresh_conversation(scenario: Scenario) -> list[Turn]:
    """What the assistant reads when the scenario's first text arrives on a fresh demo:
    the opening text of the demo comes first when it is from the same phone."""
    first = next(step.text for step in scenario.steps if step.text is not None)
    opening = load_people().opening_text
    turns: list[Turn] = []
    if opening is not None and opening.phone == first.phone:
        turns.append(("customer", opening.text))
    return [*turns, ("customer", first.body)]


# The scenarios whose question the knowledge base answers, and the entry that does.
ANSWERED = [("support", "inline/do-you-bake-gluten-free-bread"), ("after_hours", "profile/hours")]


@pytest.mark.parametrize(("scenario_id", "entry"), ANSWERED)
def test_a_scenarios_question_has_one_clear_answer_in_the_sample_knowledge_base(
    sample: tuple[BusinessConfig, KnowledgeBase], scenario_id: str, entry: str
) -> None:
    config, knowledge = sample
    draft = OfflineDrafter().draft_sync(
        fresh_conversation(SCENARIOS[scenario_id]), knowledge=knowledge
    )
    assert draft.sendable, draft.reason
    assert draft.sources == [entry]
    # Clear enough for the assistant to send it by itself after hours.
    assert draft.confidence >= config.ai.auto_reply.min_confidence


@pytest.mark.parametrize(("scenario_id", "entry"), ANSWERED)
def test_a_scenarios_question_is_answered_after_other_unanswered_texts(
    sample: tuple[BusinessConfig, KnowledgeBase], scenario_id: str, entry: str
) -> None:
    # a phone that texted before (the demo's opening question, another scenario's): the
    # latest text is answered, not merged with the earlier ones into "2 questions"
    _, knowledge = sample
    opening = load_people().opening_text
    assert opening is not None
    others = [
        step.text.body
        for other in SCENARIOS.values()
        if other.id != scenario_id
        for step in other.steps
        if step.text is not None and step.text.body.endswith("?")
    ]
    first = next(s.text for s in SCENARIOS[scenario_id].steps if s.text is not None)
    for earlier in others:
        conversation: list[Turn] = [
            ("customer", opening.text),
            ("customer", earlier),
            ("customer", first.body),
        ]
        draft = OfflineDrafter().draft_sync(conversation, knowledge=knowledge)
        assert draft.sendable, (earlier, draft.reason)
        assert draft.sources == [entry]


@pytest.mark.parametrize(
    ("scenario_id", "open_then"),
    [("support", True), ("order", True), ("appointment", True), ("after_hours", False)],
)
def test_a_scenario_is_set_at_an_hour_that_fits_its_title(
    sample: tuple[BusinessConfig, KnowledgeBase], scenario_id: str, open_then: bool
) -> None:
    config, _ = sample
    at = SCENARIOS[scenario_id].at
    assert at is not None, "a scenario whose outcome depends on the hour sets the hour"
    clock = DemoClock()
    clock.move_to(at, config.business)
    assert opening(on_clock(config.business, clock), None, clock.real()).open is open_then


def test_the_sample_files_point_only_at_documents_the_project_has() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    headings = {line.lstrip("#").strip() for line in readme.splitlines() if line.startswith("#")}
    for file in SAMPLE_DIR.rglob("*"):
        if file.suffix not in (".yml", ".md"):
            continue
        text = file.read_text(encoding="utf-8")
        for name in re.findall(r"[\w./-]+\.md\b", text):
            assert (REPO / name).exists(), f"{file.name} points at {name}, which is not there"
        for section in re.findall(r'README section "([^"]+)"', text):
            assert any(h.startswith(section) for h in headings), f"{file.name}: {section!r}"


def test_the_poll_scenarios_answers_are_the_votes_it_shows_and_its_question_is_none() -> None:
    scenario = SCENARIOS["poll"]
    campaign = next(step.campaign for step in scenario.steps if step.campaign is not None)
    options = read_options(campaign.options)
    assert isinstance(options, dict)
    poll = Poll(options=options)
    audience = {s.phone for s in load_people().subscribers if campaign.tags in s.tags}
    last: dict[str, str | None] = {}
    for step in scenario.steps:
        if step.text is not None:
            assert step.text.phone in audience  # only those who got the poll answer it
            last[step.text.phone] = read_poll_answer(poll, step.text.body) or last.get(
                step.text.phone
            )
    votes = [choice for choice in last.values() if choice is not None]
    assert {options[c]: votes.count(c) for c in options} == {
        "Mango": 1,
        "Strawberry": 2,
        "Vanilla": 2,
    }
    assert len(last) - len(votes) == 1  # one phone asked a question instead
