"""bench/ai_eval.py runs the same question sets through the Claude engine whenever a key
is set: here against the Anthropic emulator (its default answer is a "check first" draft,
so the figures say nothing of Claude; the test checks that every text is drafted)."""

import pytest
import yaml

from bench import ai_eval
from bridge.sandbox.anthropic_emulator import AnthropicEmulator
from tests.support import bounded


@pytest.mark.parametrize("business", ["bikes", "dental", "delivery"])
async def test_the_claude_engine_runs_every_business_set(
    business: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator = AnthropicEmulator()
    url = await emulator.start()
    monkeypatch.setenv("ANTHROPIC_API_KEY", emulator.api_key)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", url)
    try:
        args = ai_eval.parse_args(["--engine", "claude", "--set", business, "--synthetic", "0"])
        code = await ai_eval.evaluate(args)
    finally:
        await bounded(emulator.stop())

    texts = yaml.safe_load((ai_eval.SETS / business / "questions.yml").read_text())
    assert code in (0, 1)  # figures printed (2: no engine)
    assert len(emulator.requests) == len(texts)
    assert "claude:" in capsys.readouterr().out
