"""The "Scenarios" menu: the product's use cases played on the simulators, step by step."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from bridge.sandbox.demo_clock import WeekTime
from bridge.sandbox.demo_sample import CampaignStep, Scenario, SendStep, Step
from bridge.sandbox.demo_slack_client import SlackClient
from bridge.sandbox.demo_world import BUSINESS_NUMBER, INBOX, Sandbox
from bridge.slack.blocks.campaign_modal import field
from bridge.slack.blocks.draft_card import SEND

log = logging.getLogger(__name__)

# A pause between steps, so a person watching can follow the texts as they go.
STEP_PAUSE_SECONDS = 0.8
# How long a step waits for what it acts on (a thread, a draft) before the scenario stops.
STEP_WAIT_SECONDS = 10.0

_T = TypeVar("_T")
_Button = tuple[str, str, dict[str, Any]]  # message ts, block id, the button


class ScenarioPlayer:
    def __init__(self, sandbox: Sandbox, client: SlackClient, scenarios: list[Scenario]) -> None:
        self._sandbox = sandbox
        self._client = client
        self._scenarios = {scenario.id: scenario for scenario in scenarios}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._problems: dict[str, str] = {}
        # The business's clock is set by the scenarios playing: those set to the same
        # hour play together, one set to another hour waits until they are done.
        self._clock_turn = asyncio.Condition()
        self._clock_at: WeekTime | None = None
        self._clock_users = 0

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
        try:
            async with self._clock_set_to(scenario.at):
                for step in scenario.steps:
                    await self._step(step)
                    await asyncio.sleep(STEP_PAUSE_SECONDS)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a scenario is a show: say what stopped it, keep the demo up
            log.warning("scenario %s stopped: %r", scenario.id, exc)
            self._problems[scenario.id] = str(exc) or type(exc).__name__

    async def _step(self, step: Step) -> None:
        sandbox = self._sandbox
        if step.wait is not None:
            await asyncio.sleep(step.wait)
        elif step.text is not None:
            await sandbox.text(step.text.phone, step.text.body)
        elif step.reply is not None:
            thread = await sandbox.wait_for_thread(step.reply.phone)
            await self._client.post(step.reply.agent, step.reply.body, thread_ts=thread)
        elif step.send is not None:
            await self._send_draft(step.send)
        elif step.campaign is not None:
            await self._start_campaign(step.campaign)
        elif step.close is not None:
            campaign_id = await sandbox.campaign_id(step.close.campaign)
            await self._client.command(step.close.agent, f"/sms campaign close {campaign_id}")

    async def _send_draft(self, step: SendStep) -> None:
        """Click Send on the newest draft in the phone's thread, once the draft is there."""
        thread = await self._sandbox.wait_for_thread(step.phone)
        ts, block_id, button = await self._until(lambda: self._send_button(thread), "draft")
        await self._client.action(step.agent, message_ts=ts, block_id=block_id, element=button)

    async def _start_campaign(self, step: CampaignStep) -> None:
        """Type `/sms campaign`, fill in the dialog it opens and create the campaign, as
        an agent would in Slack."""
        modals = self._sandbox.slack.modals
        modals.pop(step.agent, None)  # a dialog left open from before is not this one
        await self._client.command(step.agent, "/sms campaign")
        await self._until(lambda: modals.get(step.agent), "campaign dialog")
        typed = {
            "name": step.name,
            "kind": step.kind,
            "from": BUSINESS_NUMBER,
            "tags": step.tags,
            "text": step.text,
            "flow": "poll",
            "options": step.options,
            "when": "now",
        }
        answer = await self._client.submit_view(
            step.agent, {block: {field(block): value} for block, value in typed.items()}
        )
        errors = self._client.modal_errors.get(step.agent)
        if answer.status != 200 or errors:
            raise RuntimeError(f"the campaign dialog refused it: {errors or answer.status}")
        # The phones answer what they received: not before every text is out.
        deadline = time.monotonic() + STEP_WAIT_SECONDS
        while not await self._sandbox.campaign_sent(step.name):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the campaign was not sent after {STEP_WAIT_SECONDS:.0f} s")
            await asyncio.sleep(0.2)

    @contextlib.asynccontextmanager
    async def _clock_set_to(self, at: WeekTime | None) -> AsyncIterator[None]:
        """Hold the business's clock at `at` (from the next such day and hour on) while
        the scenario plays; None: leave the clock as it is."""
        if at is None:
            yield
            return
        business = self._sandbox.config.business if self._sandbox.config else None
        if business is None:
            raise RuntimeError("the demo's bridge is not running")
        async with self._clock_turn:
            await self._clock_turn.wait_for(lambda: self._clock_users == 0 or self._clock_at == at)
            if self._clock_users == 0:
                self._sandbox.clock.move_to(at, business)
                self._clock_at = at
            self._clock_users += 1
        self._sandbox.changes.bump()
        try:
            yield
        finally:
            async with self._clock_turn:
                self._clock_users -= 1
                self._clock_turn.notify_all()

    def _send_button(self, thread: str) -> _Button | None:
        """The Send button of the newest draft in the thread that still has one."""
        for message in reversed(self._sandbox.slack.replies(INBOX, thread)):
            for block in message.blocks or ():
                if block.get("type") != "actions":
                    continue
                for element in block.get("elements", ()):
                    if element.get("action_id") == SEND:
                        return message.ts, str(block.get("block_id", "")), element
        return None

    async def _until(self, find: Callable[[], _T | None], what: str) -> _T:
        """What `find` finds once the demo's state has it, waiting on the state's changes."""
        changes = self._sandbox.changes
        deadline = time.monotonic() + STEP_WAIT_SECONDS
        seen = changes.version
        while (found := find()) is None:
            left = deadline - time.monotonic()
            if changes.closed:
                raise RuntimeError("the demo is stopping")
            if left <= 0:
                raise TimeoutError(f"no {what} after {STEP_WAIT_SECONDS:.0f} s")
            seen = await changes.wait(seen, left)
        return found

    async def stop(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
