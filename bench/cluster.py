"""Several `sms-bridge serve` processes on one SQLite file behind HAProxy, with the Slack
and Twilio emulators in this process, and the ledger that checks what came out of
them: shared by bench/chaos.py and the e2e tests (tests/e2e/test_cluster_serve.py).

HAProxy is Debian's (`apt-get install haproxy`; `./dev test` installs it as root), run
with deploy/haproxy.cfg pointed at the local processes: round robin, nothing sticky,
health checks on /readyz, and a request whose server refused the connection or died
before answering is tried on another server.
Every wait is bounded; `stop()` ends every process it started, HAProxy included.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import shutil
import signal
import sqlite3
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.common import HOST, REPO, base_env, free_port
from bridge.app import SLACK_TIMEOUT
from bridge.sandbox.recorder import WebhookResponse
from bridge.sandbox.shown import parents, shown_by_message
from bridge.sandbox.slack_emulator import ACK_TIMEOUT_SECONDS, SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.sandbox.wiring import (
    INBOX,
    PUBLIC_URL,
    emulator_env,
    text_bridge,
    unfinished_jobs,
)

SMS_BRIDGE = str(Path(sys.executable).with_name("sms-bridge"))
HAPROXY = "haproxy"
DEPLOYED_CONFIG = REPO / "deploy" / "haproxy.cfg"
INSTALL_HAPROXY = "HAProxy is needed: apt-get install haproxy (./dev test installs it as root)"
# Start-up is mostly imports: a second or two, far more on a busy machine.
READY_SECONDS = 60.0
# A bridge stops within two 5-second graces for its jobs and 5 s for requests in flight.
STOP_SECONDS = 30.0
AGENT = "U0AGENT"
# Slack retries an event over 6 minutes; the emulator over 12.5 s.
ECHO_RETRY_DELAYS = (0.5, 2.0, 5.0, 5.0)
# The latest an echo can come: Slack stores a post as the bridge's call gives up, and
# every delivery takes up to Slack's 3 s timeout. A post whose answer a kill cut off
# waits that long for its echo before it is made again (the README's rule: the wait
# covers Slack's retries); a shorter wait reposted texts whose echo was on its way,
# doubles outside the documented window.
ECHO_WAIT = (
    SLACK_TIMEOUT + sum(ECHO_RETRY_DELAYS) + (len(ECHO_RETRY_DELAYS) + 1) * ACK_TIMEOUT_SECONDS
)
# What every process gets besides the emulators' settings: a killed process's jobs are
# taken over within 2 s.
CLUSTER_ENV = {
    "BRIDGE_JOB_LEASE_SECONDS": "2",
    "BRIDGE_LOG_LEVEL": "warning",
    "BRIDGE_SLACK_ECHO_WAIT_SECONDS": f"{ECHO_WAIT:g}",
    "BRIDGE_SLACK_POST_RATE": "200",
    "BRIDGE_SLACK_POST_BURST": "50",
}


def haproxy_config(port: int, servers: Sequence[int], host: str = HOST) -> str:
    """deploy/haproxy.cfg (the compose file's) in front of local processes: bound to
    `host`:`port`, and `servers` (ports on `host`) instead of the replicas that docker's
    DNS names."""
    lines: list[str] = []
    resolvers = False
    for line in DEPLOYED_CONFIG.read_text().splitlines():
        if line[:1].isalpha():  # a section starts
            resolvers = line.startswith("resolvers")
        if resolvers:
            continue
        setting = line.strip()
        if setting.startswith("bind "):
            line = f"    bind {host}:{port}"
        elif setting.startswith("server-template "):
            lines += [f"    server serve-{i} {host}:{p}" for i, p in enumerate(servers)]
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"


@dataclass
class Member:
    """One `serve` process of the cluster; restarted on the same port."""

    name: str
    port: int
    env: Mapping[str, str]
    log: Path
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.running and self.process is not None else None

    async def start(self) -> None:
        env = dict(self.env) | {"PORT": str(self.port), "BRIDGE_HOST": HOST}
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                SMS_BRIDGE,
                "serve",
                env=env,
                cwd=str(self.log.parent),  # no stray .env of the repo is read
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        await _ready(f"{self.url}/readyz", self.process, self.log)

    async def stop(self, sig: int = signal.SIGTERM) -> None:
        """Signal the process and wait for it to end; past STOP_SECONDS it is killed."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
        try:
            await asyncio.wait_for(process.wait(), STOP_SECONDS)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise AssertionError(f"{self.name} did not stop within {STOP_SECONDS:.0f} s") from None


async def _ready(url: str, process: asyncio.subprocess.Process, log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    timeout = aiohttp.ClientTimeout(total=2)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"{url} exited: {_tail(log)}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.get(url) as answer:
                    if answer.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} was not ready within {READY_SECONDS:.0f} s")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


@dataclass(frozen=True)
class Kill:
    at: float  # time.time(), the clock the emulators record calls with
    member: str


class Cluster:
    """`size` bridge processes on one SQLite file behind HAProxy; Twilio's webhooks and
    Slack's event deliveries go to HAProxy's URL. Use as `async with`."""

    def __init__(
        self,
        slack: SlackEmulator,
        twilio: TwilioEmulator,
        workdir: Path,
        size: int,
        env: Mapping[str, str] | None = None,
    ) -> None:
        if shutil.which(HAPROXY) is None:
            raise RuntimeError(INSTALL_HAPROXY)
        self.slack = slack
        self.twilio = twilio
        slack.add_user(AGENT, "agent", "Agent Smith", display_name="Agent")
        slack.join(INBOX, AGENT)
        self.workdir = workdir
        self.db = workdir / "bridge.db"
        self.port = free_port()
        # One place for settings every process gets (e.g. shared pacing, when it lands).
        # base_env passes PYTHONPATH on: a soak can run another checkout of the product.
        every = (
            base_env(workdir) | emulator_env(slack, twilio, self.db) | CLUSTER_ENV | dict(env or {})
        )
        self.members = [
            Member(f"serve-{i}", free_port(), every, workdir / f"serve-{i}.log")
            for i in range(size)
        ]
        self.kills: list[Kill] = []
        self._haproxy: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    async def __aenter__(self) -> Cluster:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        config = self.workdir / "haproxy.cfg"
        config.write_text(haproxy_config(self.port, [m.port for m in self.members]))
        log = self.workdir / "haproxy.log"
        with log.open("ab") as output:
            self._haproxy = await asyncio.create_subprocess_exec(
                HAPROXY,
                "-db",  # in the foreground: this process owns it
                "-f",
                str(config),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=asyncio.subprocess.STDOUT,
            )
        # Together on a new file, as behind a load balancer: one creates the schema.
        await asyncio.gather(*(m.start() for m in self.members))
        self.twilio.route_webhooks(PUBLIC_URL, self.url)
        self.slack.echo_url = f"{self.url}/slack/events"
        self.slack.echo_retry_delays = ECHO_RETRY_DELAYS
        await _ready(f"{self.url}/readyz", self._haproxy, log)

    async def stop(self) -> None:
        """Every process stopped (bounded); the first failure to stop is raised after."""
        self.slack.echo_url = None
        outcomes = await asyncio.gather(*(m.stop() for m in self.members), return_exceptions=True)
        if self._haproxy is not None and self._haproxy.returncode is None:
            self._haproxy.terminate()
            try:
                await asyncio.wait_for(self._haproxy.wait(), STOP_SECONDS)
            except TimeoutError:
                self._haproxy.kill()
                await self._haproxy.wait()
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def kill(self, index: int) -> None:
        """SIGKILL one process (noted in `kills`); it stays down until `restart`."""
        member = self.members[index]
        self.kills.append(Kill(time.time(), member.name))
        await member.stop(signal.SIGKILL)

    async def restart(self, index: int) -> None:
        await self.members[index].start()

    # -- what subscribers and agents do, through the load balancer ----------------------

    async def text(self, number: str, body: str, sid: str | None = None) -> WebhookResponse:
        return await text_bridge(self.twilio, self.url, number, body, sid=sid)

    async def agent_replies(self, thread_ts: str, text: str) -> bool:
        """An agent types in a thread; Slack delivers the event (retrying as it does).
        True: the bridge acknowledged it."""
        event = self.slack.user_posts(INBOX, AGENT, text, thread_ts=thread_ts)
        return await self.slack.deliver_retried(self.slack.envelope(event))

    async def unfinished_jobs(self) -> int | None:
        """Jobs not yet done (dead ones aside), as any process reports them (one
        database); None when no process answered."""
        timeout = aiohttp.ClientTimeout(total=5)
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with (
                aiohttp.ClientSession(timeout=timeout) as http,
                http.get(f"{self.url}/metrics") as answer,
            ):
                if answer.status == 200:
                    return unfinished_jobs(await answer.text())
        return None


# --- the ledger: what was acknowledged, against what Slack shows and phones got -------------

# A text's tag: `t<subscriber>.<sequence>`, an agent reply's `r<subscriber>.<sequence>`.
TAG = re.compile(r"^([tr])(\d{1,6})\.(\d{1,6})\b")


def subscriber(index: int) -> str:
    return f"+1415556{index:04d}"


def thread_digits(index: int) -> str:
    """How a parent card writes the subscriber's number."""
    return f"415-556-{index:04d}"


def text_tag(index: int, sequence: int) -> str:
    return f"t{index}.{sequence}"


def reply_tag(index: int, sequence: int) -> str:
    return f"r{index}.{sequence}"


def _tag(text: str) -> tuple[str, int, int] | None:
    found = TAG.match(text)
    return (found[1], int(found[2]), int(found[3])) if found else None


@dataclass
class Ledger:
    """What the subscribers' phones and Slack were told went through, per subscriber,
    in the order each was sent (one at a time per subscriber)."""

    texts: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    replies: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    texts_refused: int = 0  # never answered 200, however often retried
    replies_refused: int = 0  # Slack gave up delivering them
    replies_unthreaded: int = 0  # not written: their thread did not show in time

    @property
    def acknowledged_texts(self) -> int:
        return sum(len(sent) for sent in self.texts.values())

    @property
    def acknowledged_replies(self) -> int:
        return sum(len(sent) for sent in self.replies.values())


@dataclass(frozen=True)
class Verdict:
    texts_lost: int  # acknowledged, not in Slack, and not waiting in the store either
    texts_doubled: int  # extra copies outside the window (must be 0)
    texts_doubled_in_window: int  # extra copies of posts whose echo Slack never delivered
    posts_doubled_in_window: int  # those posts
    text_order_violations: int
    threads_split: int  # subscribers with more than one thread
    replies_lost: int
    replies_doubled: int
    reply_order_violations: int
    texts_queued: int = 0  # acknowledged, not in Slack yet: stored, their posts queued

    @property
    def exactly_once_in_order(self) -> bool:
        return not (
            self.texts_lost
            or self.texts_doubled
            or self.text_order_violations
            or self.threads_split
            or self.replies_lost
            or self.replies_doubled
            or self.reply_order_violations
        )

    def lines(self) -> list[str]:
        return [
            f"acknowledged texts lost: {self.texts_lost} "
            f"(and {self.texts_queued} not shown yet, their posts still queued: late)",
            f"texts posted twice: {self.texts_doubled} outside the post-then-store window, "
            f"{self.texts_doubled_in_window} inside it (in {self.posts_doubled_in_window} posts"
            " whose echo Slack never delivered)",
            f"per-conversation order violations: texts {self.text_order_violations}, "
            f"replies {self.reply_order_violations}",
            f"subscribers with more than one thread: {self.threads_split}",
            f"acknowledged replies lost: {self.replies_lost}, sent twice: {self.replies_doubled}",
        ]


def shown_texts(slack: SlackEmulator) -> dict[int, list[tuple[str, int]]]:
    """Per subscriber, every copy of their texts Slack shows: (message ts, sequence), in
    the order shown."""
    shown: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for parent in parents(slack):
        for ts, texts in shown_by_message(slack, parent):
            for text in texts:
                tag = _tag(text)
                if tag is not None and tag[0] == "t":
                    shown[tag[1]].append((ts, tag[2]))
    return shown


def threads_of(slack: SlackEmulator) -> Counter[int]:
    """How many threads show each subscriber's texts."""
    threads: Counter[int] = Counter()
    for parent in parents(slack):
        indexes = {
            tag[1]
            for _, texts in shown_by_message(slack, parent)
            for text in texts
            if (tag := _tag(text)) is not None and tag[0] == "t"
        }
        threads.update(indexes)
    return threads


def sent_replies(twilio: TwilioEmulator, indexes: Sequence[int]) -> dict[int, list[int]]:
    sent: dict[int, list[int]] = {}
    for index in indexes:
        tags = [_tag(m.body) for m in twilio.sent_to(subscriber(index))]
        sent[index] = [tag[2] for tag in tags if tag is not None and tag[0] == "r"]
    return sent


def delivered(ledger: Ledger, slack: SlackEmulator, twilio: TwilioEmulator) -> bool:
    """Every acknowledged text shows and every acknowledged reply was sent."""
    shown = shown_texts(slack)
    sent = sent_replies(twilio, list(ledger.replies))
    return all(
        set(texts) <= {sequence for _, sequence in shown.get(index, [])}
        for index, texts in ledger.texts.items()
    ) and all(set(replies) <= set(sent[index]) for index, replies in ledger.replies.items())


async def drained(cluster: Cluster, ledger: Ledger, *, within: float) -> float | None:
    """Seconds until every acknowledged text shows, every acknowledged reply went out
    and no job is left; None if not within `within`."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if (
            delivered(ledger, cluster.slack, cluster.twilio)
            and await cluster.unfinished_jobs() == 0
        ):
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    return None


def waiting_texts(db: Path) -> dict[int, set[int]]:
    """Per subscriber, the texts the store holds that no Slack message carries yet and
    whose post job is still to run: late, not lost, when the soak is judged."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as conn:
        found = conn.execute(
            "SELECT m.body FROM messages m WHERE m.direction = 'inbound' AND m.slack_ts IS NULL"
            " AND EXISTS (SELECT 1 FROM jobs j WHERE j.message_id = m.id"
            " AND j.state IN ('pending', 'running'))"
        ).fetchall()
    waiting: dict[int, set[int]] = defaultdict(set)
    for (body,) in found:
        tag = _tag(body)
        if tag is not None and tag[0] == "t":
            waiting[tag[1]].add(tag[2])
    return dict(waiting)


def verdict(
    ledger: Ledger,
    slack: SlackEmulator,
    twilio: TwilioEmulator,
    *,
    waiting: Mapping[int, set[int]] | None = None,
) -> Verdict:
    """What Slack and Twilio show against the ledger; `waiting` (see `waiting_texts`)
    tells the acknowledged texts not shown yet that are still queued from the lost."""
    shown = shown_texts(slack)
    lost = queued = doubled = in_window = text_order = 0
    window_posts: set[str] = set()
    for index, acknowledged in ledger.texts.items():
        copies = shown.get(index, [])
        missing = set(acknowledged) - {sequence for _, sequence in copies}
        late = missing & (waiting or {}).get(index, set())
        lost += len(missing - late)
        queued += len(late)
        first_posts: dict[int, str] = {}
        for ts, sequence in copies:
            if sequence not in first_posts:
                first_posts[sequence] = ts
            elif first_posts[sequence] in slack.echoes_lost:
                in_window += 1
                window_posts.add(first_posts[sequence])
            else:
                doubled += 1
        text_order += _out_of_order(list(first_posts))
    threads = threads_of(slack)
    sent = sent_replies(twilio, list(ledger.replies))
    replies_lost = replies_doubled = reply_order = 0
    for index, acknowledged in ledger.replies.items():
        replies_lost += len(set(acknowledged) - set(sent[index]))
        replies_doubled += len(sent[index]) - len(set(sent[index]))
        reply_order += _out_of_order(list(dict.fromkeys(sent[index])))
    return Verdict(
        texts_lost=lost,
        texts_queued=queued,
        texts_doubled=doubled,
        texts_doubled_in_window=in_window,
        posts_doubled_in_window=len(window_posts),
        text_order_violations=text_order,
        threads_split=sum(1 for count in threads.values() if count > 1),
        replies_lost=replies_lost,
        replies_doubled=replies_doubled,
        reply_order_violations=reply_order,
    )


def _out_of_order(sequences: Sequence[int]) -> int:
    """How many come after a later one (each subscriber sends one at a time)."""
    highest, late = -1, 0
    for sequence in sequences:
        if sequence < highest:
            late += 1
        highest = max(highest, sequence)
    return late


def thread_of(slack: SlackEmulator, index: int) -> str | None:
    """The ts of the subscriber's conversation's parent card, once it shows."""
    digits = thread_digits(index)
    return next((p.ts for p in parents(slack) if digits in p.text), None)


# --- subscribers and agents, one message at a time each, retrying as their platform does ---

TEXT_ATTEMPTS = 3  # a webhook not answered 200 is sent again (same MessageSid) this often
RETRY_SECONDS = 1.0


async def send_text(cluster: Cluster, ledger: Ledger, index: int, sequence: int) -> bool:
    """A subscriber's text, re-sent with its MessageSid until answered 200 (or given up
    on); noted in the ledger. True: acknowledged."""
    sid = "SM" + secrets.token_hex(16)
    for attempt in range(TEXT_ATTEMPTS):
        if attempt:
            await asyncio.sleep(RETRY_SECONDS)
        answer = await cluster.text(subscriber(index), text_tag(index, sequence), sid)
        if answer.status == 200:
            ledger.texts[index].append(sequence)
            return True
    ledger.texts_refused += 1
    return False


async def send_reply(
    cluster: Cluster, ledger: Ledger, index: int, sequence: int, *, within: float = 60.0
) -> bool:
    """An agent's reply in the subscriber's thread (waiting for it to show, at most
    `within` seconds); noted in the ledger. True: the bridge acknowledged it."""
    deadline = time.monotonic() + within
    while (thread := thread_of(cluster.slack, index)) is None:
        if time.monotonic() > deadline:
            ledger.replies_unthreaded += 1
            return False
        await asyncio.sleep(0.2)
    if await cluster.agent_replies(thread, reply_tag(index, sequence)):
        ledger.replies[index].append(sequence)
        return True
    ledger.replies_refused += 1
    return False
