"""Prometheus metrics. One registry per app, so several apps (tests) can coexist."""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.webhooks = Counter(
            "bridge_webhooks_total",
            "Webhook requests by endpoint and outcome",
            ["endpoint", "outcome"],
            registry=r,
        )
        self.webhook_seconds = Histogram(
            "bridge_webhook_seconds",
            "Time to answer a webhook",
            ["endpoint"],
            registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.jobs = Counter(
            "bridge_jobs_total",
            "Outbox jobs run, by kind and outcome",
            ["kind", "outcome"],
            registry=r,
        )
        self.retries = Counter(
            "bridge_job_retries_total", "Outbox jobs rescheduled", ["kind"], registry=r
        )
        self.dead = Counter(
            "bridge_dead_jobs_total", "Outbox jobs given up on", ["kind"], registry=r
        )
        self.queue_depth = Gauge(
            "bridge_queue_depth",
            "Unfinished outbox jobs by kind (dead ones as 'dead')",
            ["kind"],
            registry=r,
        )
        self.slack_ratelimited = Counter(
            "bridge_slack_ratelimited_total",
            "Slack 429 answers by method",
            ["method"],
            registry=r,
        )
        self.slack_calls = Counter(
            "bridge_slack_calls_total", "Slack Web API calls by method", ["method"], registry=r
        )
        # Workers of `serve --processes N` share a port: a scrape shows one worker's counts.
        Gauge("bridge_process", "The process that answered (its pid)", ["pid"], registry=r).labels(
            str(os.getpid())
        ).set(1)

        self.drafts = Counter(
            "bridge_ai_drafts_total",
            "AI drafts by engine and outcome (reply, handoff, none, unavailable, late)",
            ["engine", "outcome"],
            registry=r,
        )
        self.draft_seconds = Histogram(
            "bridge_ai_draft_seconds",
            "Time to draft, by engine",
            ["engine"],
            registry=r,
            buckets=(0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16),
        )
        self.ai_tokens = Counter(
            "bridge_ai_tokens_total",
            "Claude tokens by kind (input, output, cache_read, cache_write)",
            ["kind"],
            registry=r,
        )
        self.ai_budget_spent = Gauge(
            "bridge_ai_budget_spent_tokens",
            "Claude tokens spent today, as counted against ai.daily_token_budget",
            registry=r,
        )
        self.ai_budget_limit = Gauge(
            "bridge_ai_budget_limit_tokens", "ai.daily_token_budget", registry=r
        )
        self.auto_replies = Counter(
            "bridge_ai_auto_replies_total",
            "Drafts the assistant sent by itself, and ones it held back (by reason)",
            ["outcome"],
            registry=r,
        )
        self.kb_entries = Gauge(
            "bridge_ai_kb_entries", "Entries in the loaded knowledge base", registry=r
        )
        self.kb_reloads = Counter(
            "bridge_ai_kb_reloads_total",
            "Knowledge-base reloads by outcome",
            ["outcome"],
            registry=r,
        )

    def render(self, queue_depth: dict[str, int]) -> bytes:
        self.queue_depth.clear()
        for kind, count in queue_depth.items():
            self.queue_depth.labels(kind).set(count)
        return generate_latest(self.registry)
