"""The "Scenarios" menu: the product's use cases played on the simulators, step by step."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from bridge.sandbox.demo_sample import Scenario
from bridge.sandbox.demo_slack_client import SlackClient
from bridge.sandbox.demo_world import Sandbox

log = logging.getLogger(__name__)

# A pause between steps, so a person watching can follow the texts as they go.
STEP_PAUSE_SECONDS = 0.8


class ScenarioPlayer:
    def __init__(self, sandbox: Sandbox, client: SlackClient, scenarios: list[Scenario]) -> None:
        self._sandbox = sandbox
        self._client = client
        self._scenarios = {scenario.id: scenario for scenario in scenarios}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._problems: dict[str, str] = {}

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "id": scenario.id,
                "title": scenario.title,
                "running": scenario.id in self._running,
                "problem": self._problems.get(scenario.id, ""),
            }
            for scenario in self._scenarios.values()
        ]

    def play(self, scenario_id: str) -> None:
        scenario = self._scenarios.get(scenario_id)
        if scenario is None:
            raise ValueError(f"no scenario {scenario_id!r}")
        if scenario_id in self._running:
            return  # already playing: one click is enough
        self._problems.pop(scenario_id, None)
        task = asyncio.create_task(self._play(scenario))
        self._running[scenario_id] = task
        task.add_done_callback(lambda _task: self._finished(scenario_id))
        self._sandbox.changes.bump()

    def _finished(self, scenario_id: str) -> None:
        self._running.pop(scenario_id, None)
        self._sandbox.changes.bump()

    async def _play(self, scenario: Scenario) -> None:
        sandbox = self._sandbox
        try:
            for step in scenario.steps:
                if step.wait is not None:
                    await asyncio.sleep(step.wait)
                elif step.text is not None:
                    await sandbox.text(step.text.phone, step.text.body)
                elif step.reply is not None:
                    thread = await sandbox.wait_for_thread(step.reply.phone)
                    await self._client.post(step.reply.agent, step.reply.body, thread_ts=thread)
                await asyncio.sleep(STEP_PAUSE_SECONDS)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a scenario is a show: say what stopped it, keep the demo up
            log.warning("scenario %s stopped: %r", scenario.id, exc)
            self._problems[scenario.id] = str(exc) or type(exc).__name__

    async def stop(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
