"""Bolt listeners for teaching the assistant: the agent's *Teach the assistant* button
(opens the dialog), the dialog's submission (a lesson for an admin), and an admin's
Approve / Reject in App Home. Each applies the inbox's one rule first; deciding also
needs an admin. What stops an action is told to that person alone."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bridge.ai.learning_desk import LearningDesk, LessonProblem
from bridge.slack.access import NOT_A_MEMBER, InboxAccess, Interaction, dialog_memory
from bridge.slack.blocks.mrkdwn import field_error
from bridge.slack.blocks.teach import (
    APPROVE_ACTION,
    MODAL,
    OPEN_ACTION,
    QUESTION_BLOCK,
    REJECT_ACTION,
    submitted,
    teach_modal,
)
from bridge.slack.blocks.teach_words import lesson_outcome_text, lesson_problem_text
from bridge.slack.gateway import SlackGateway
from bridge.store.base import ConversationStore


async def _tell(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral", replace_original=False)


class TeachButtons:
    def __init__(
        self,
        learning: LearningDesk,
        store: ConversationStore,
        access: InboxAccess,
        gateway: SlackGateway,
        *,
        inbox: str,
    ) -> None:
        self._learning = learning
        self._store = store
        self._access = access
        self._gateway = gateway
        self._inbox = inbox

    def register(self, app: AsyncApp) -> None:
        app.action(OPEN_ACTION)(self.on_open)
        app.view(MODAL)(self.on_submit)
        app.action(APPROVE_ACTION)(self.on_decide)
        app.action(REJECT_ACTION)(self.on_decide)

    async def on_open(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        click = Interaction.of(body, action)
        if click is None or not click.value:
            return
        if not await self._access.allows(click.user, team=click.team):
            await _tell(respond, NOT_A_MEMBER)
            return
        form = await self._learning.form(click.value, click.user)
        if isinstance(form, LessonProblem):
            await _tell(respond, lesson_problem_text(form))
            return
        conversation = await self._store.get_conversation(form.message.conversation_id)
        if conversation is None or not await self._access.came_from(conversation, click):
            await _tell(respond, lesson_problem_text(LessonProblem.NOT_HANDED_OFF))
            return
        if click.trigger_id is not None:  # Slack sends one with every click
            await client.views_open(trigger_id=click.trigger_id, view=teach_modal(form))

    async def on_submit(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        submitter = Interaction.of(body)
        memory = dialog_memory(view)
        if submitter is None or memory is None:
            await ack()
            return
        if not await self._access.allows(submitter.user, team=submitter.team):
            await ack(response_action="errors", errors={QUESTION_BLOCK: NOT_A_MEMBER})
            return
        question, answer, entry_id = submitted(view)
        conversation = memory.get("conversation")
        outcome = await self._learning.propose(
            memory["message"],
            submitter.user,
            question=question,
            answer=answer,
            entry_id=entry_id,
            # the dialog's own conversation, so a forged memory teaches nothing
            conversation_id=conversation if isinstance(conversation, int) else -1,
        )
        if isinstance(outcome, LessonProblem):
            text = field_error(lesson_problem_text(outcome))
            await ack(response_action="errors", errors={QUESTION_BLOCK: text})
        else:
            await ack()

    async def on_decide(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Approve or Reject, in App Home; the admin is told the outcome in the inbox
        channel, ephemerally (App Home has no place for a note)."""
        await ack()
        click = Interaction.of(body, action)
        if click is None or not click.value:
            return
        if not await self._access.allows(click.user, team=click.team):
            await self._note(click.user, NOT_A_MEMBER)
            return
        approve = action.get("action_id") == APPROVE_ACTION
        outcome = await self._learning.decide(click.value, click.user, approve=approve)
        await self._note(click.user, lesson_outcome_text(outcome))

    async def _note(self, user: str, text: str) -> None:
        await self._gateway.post_ephemeral(self._inbox, user, text, None)
