"""The SQLite schema: its migrations, applied in order at open (`connection.migrate`)."""

from __future__ import annotations

# Each entry moves the schema one version on. Once a version has shipped, never edit
# its entry: add the next one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE conversations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        business_number TEXT NOT NULL,
        subscriber TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open',
        assignee TEXT,
        flagged INTEGER NOT NULL DEFAULT 0,
        slack_channel TEXT,
        slack_thread_ts TEXT,
        created_at REAL NOT NULL,
        last_activity_at REAL NOT NULL,
        header_activity_at REAL,
        flag_reason TEXT,
        seen_at REAL,
        UNIQUE (business_number, subscriber)
    );
    CREATE INDEX conversations_thread ON conversations (slack_channel, slack_thread_ts);
    CREATE INDEX conversations_activity ON conversations (last_activity_at);
    CREATE INDEX conversations_assignee ON conversations (assignee, last_activity_at);
    CREATE TABLE canned (name TEXT PRIMARY KEY, text TEXT NOT NULL);
    CREATE TABLE home_viewers (user TEXT PRIMARY KEY, filter TEXT NOT NULL);
    CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations (id),
        direction TEXT NOT NULL,
        body TEXT NOT NULL,
        media TEXT NOT NULL DEFAULT '[]',
        sid TEXT UNIQUE,
        created_at REAL NOT NULL,
        slack_channel TEXT,
        slack_ts TEXT,
        status TEXT NOT NULL DEFAULT 'received',
        error_code INTEGER,
        author TEXT,
        media_posted INTEGER NOT NULL DEFAULT 0,
        keyword TEXT,
        purpose TEXT NOT NULL DEFAULT 'reply'
    );
    CREATE INDEX messages_conversation ON messages (conversation_id, created_at);
    CREATE UNIQUE INDEX messages_slack ON messages (slack_channel, slack_ts);
    CREATE TABLE contacts (
        phone TEXT PRIMARY KEY,
        name TEXT,
        fields TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE jobs (
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        lane TEXT NOT NULL,
        seq INTEGER NOT NULL,
        state TEXT NOT NULL,
        run_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_token TEXT,
        lease_until REAL,
        last_error TEXT,
        conversation_id INTEGER,
        message_id TEXT,
        note TEXT,
        user TEXT,
        -- 1: enqueued again while running; runs once more when the current run ends
        rerun INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    );
    CREATE UNIQUE INDEX jobs_seq ON jobs (seq);
    CREATE INDEX jobs_lane ON jobs (lane, seq) WHERE state IN ('pending', 'running');
    CREATE INDEX jobs_state ON jobs (state, kind);
    CREATE INDEX jobs_pending ON jobs (seq) WHERE state = 'pending';
    CREATE INDEX jobs_leases ON jobs (lease_until) WHERE state = 'running';
    -- Append-only: the current consent of a subscriber is derived from it.
    CREATE TABLE consent_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        business_number TEXT NOT NULL,
        subscriber TEXT NOT NULL,
        kind TEXT NOT NULL,
        granted INTEGER NOT NULL,
        source TEXT NOT NULL,
        at REAL NOT NULL,
        evidence TEXT NOT NULL DEFAULT '',
        ref TEXT
    );
    CREATE UNIQUE INDEX consent_ref ON consent_events (ref, kind) WHERE ref IS NOT NULL;
    CREATE INDEX consent_latest ON consent_events (business_number, subscriber, kind, at);
    CREATE TRIGGER consent_append_only_update BEFORE UPDATE ON consent_events
    BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only'); END;
    CREATE TRIGGER consent_append_only_delete BEFORE DELETE ON consent_events
    BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only'); END;
    """,
    # 2: what the assistant made of an inbound text, and its draft (a JSON document).
    """
    ALTER TABLE messages ADD COLUMN intent TEXT;
    ALTER TABLE messages ADD COLUMN urgency TEXT;
    ALTER TABLE messages ADD COLUMN draft TEXT;
    """,
    # 3: counters shared by every process (the day's AI tokens).
    """
    CREATE TABLE usage (key TEXT PRIMARY KEY, amount INTEGER NOT NULL);
    """,
    # 4: when a reply's first send attempt began (see `begin_send`).
    """
    ALTER TABLE messages ADD COLUMN send_began_at REAL;
    """,
    # 5: the row a store that met a refused write rewrites to learn that writes work.
    """
    CREATE TABLE write_probes (id INTEGER PRIMARY KEY, at REAL NOT NULL);
    """,
    # 6: posts into Slack, recorded before the call (exactly once into Slack), and the
    # count of a conversation's vanished threads, which names its next parent's post.
    """
    CREATE TABLE slack_posts (
        key TEXT PRIMARY KEY,
        channel TEXT NOT NULL,
        thread_ts TEXT,
        started_at REAL NOT NULL,
        ts TEXT,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX slack_posts_unsettled ON slack_posts (channel, started_at) WHERE ts IS NULL;
    CREATE INDEX slack_posts_age ON slack_posts (started_at);
    ALTER TABLE conversations ADD COLUMN thread_epoch INTEGER NOT NULL DEFAULT 0;
    """,
    # 7: the card that shows a reply sent from it (a draft), for its delivery marks.
    """
    ALTER TABLE messages ADD COLUMN shown_ts TEXT;
    """,
    # 8: channels. A conversation is keyed by (channel, business number, subscriber):
    # SQLite cannot change a table's UNIQUE constraint, so the table is rebuilt (with
    # foreign keys off, see `_open`), keeping ids and the numbering's counter. Every
    # earlier conversation and consent entry was SMS. `last_inbound_at` starts empty:
    # only WhatsApp reads it, and no earlier conversation is WhatsApp.
    """
    CREATE TABLE conversations_by_channel (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        channel TEXT NOT NULL DEFAULT 'sms',
        business_number TEXT NOT NULL,
        subscriber TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open',
        assignee TEXT,
        flagged INTEGER NOT NULL DEFAULT 0,
        slack_channel TEXT,
        slack_thread_ts TEXT,
        created_at REAL NOT NULL,
        last_activity_at REAL NOT NULL,
        header_activity_at REAL,
        flag_reason TEXT,
        seen_at REAL,
        thread_epoch INTEGER NOT NULL DEFAULT 0,
        last_inbound_at REAL,
        UNIQUE (channel, business_number, subscriber)
    );
    INSERT INTO conversations_by_channel (id, business_number, subscriber, status, assignee,
        flagged, slack_channel, slack_thread_ts, created_at, last_activity_at,
        header_activity_at, flag_reason, seen_at, thread_epoch)
    SELECT id, business_number, subscriber, status, assignee, flagged, slack_channel,
        slack_thread_ts, created_at, last_activity_at, header_activity_at, flag_reason,
        seen_at, thread_epoch
    FROM conversations;
    UPDATE sqlite_sequence SET seq = max(seq, coalesce(
        (SELECT seq FROM sqlite_sequence WHERE name = 'conversations'), 0))
    WHERE name = 'conversations_by_channel';
    DROP TABLE conversations;
    ALTER TABLE conversations_by_channel RENAME TO conversations;
    CREATE INDEX conversations_thread ON conversations (slack_channel, slack_thread_ts);
    CREATE INDEX conversations_activity ON conversations (last_activity_at);
    CREATE INDEX conversations_assignee ON conversations (assignee, last_activity_at);
    ALTER TABLE consent_events ADD COLUMN channel TEXT NOT NULL DEFAULT 'sms';
    DROP INDEX consent_latest;
    CREATE INDEX consent_latest ON consent_events (channel, business_number, subscriber, kind, at);
    """,
    # The away switch: at most one row.
    """
    CREATE TABLE away (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        since REAL NOT NULL,
        until REAL,
        by TEXT NOT NULL
    );
    """,
    # Routing: a conversation's team, and contacts' tags (a JSON list).
    """
    ALTER TABLE conversations ADD COLUMN team TEXT;
    ALTER TABLE contacts ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
    """,
    # Browsers subscribed to a person's Web Push notifications, one row per endpoint.
    """
    CREATE TABLE push_subscriptions (
        endpoint TEXT PRIMARY KEY,
        user TEXT NOT NULL,
        p256dh TEXT NOT NULL,
        auth TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX push_subscriptions_user ON push_subscriptions (user, created_at);
    """,
    # Notifications: what went out (alerts, digests, runs of the rules), the items that
    # wait for a digest, and each person's preferences.
    """
    CREATE TABLE notifications_sent (
        key TEXT PRIMARY KEY,
        at REAL NOT NULL
    );
    CREATE TABLE digest_items (
        id TEXT PRIMARY KEY,
        via TEXT NOT NULL,
        recipient TEXT NOT NULL,
        due REAL NOT NULL,
        item TEXT NOT NULL,
        sent INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX digest_items_due ON digest_items (via, recipient, sent, due);
    CREATE TABLE notify_preferences (
        user TEXT PRIMARY KEY,
        preferences TEXT NOT NULL
    );
    """,
    # Each wait that outlasted notifications.sla, once.
    """
    CREATE TABLE sla_breaches (
        message_id TEXT PRIMARY KEY,
        conversation_id INTEGER NOT NULL,
        deadline REAL NOT NULL
    );
    """,
    # Campaigns: each with its recipients in the order chosen, and its texts (messages
    # that name it), counted by status for its progress.
    """
    CREATE TABLE campaigns (
        id TEXT PRIMARY KEY,
        spec TEXT NOT NULL,
        state TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at REAL NOT NULL,
        started_at REAL,
        finished_at REAL,
        closes_at REAL,
        closed INTEGER NOT NULL DEFAULT 0,
        slack_channel TEXT,
        progress_ts TEXT,
        results_ts TEXT
    );
    CREATE INDEX campaigns_created ON campaigns (created_at);
    CREATE TABLE campaign_recipients (
        campaign_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        subscriber TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        reason TEXT,
        message_id TEXT,
        conversation_id INTEGER,
        PRIMARY KEY (campaign_id, subscriber)
    );
    CREATE INDEX campaign_recipients_order ON campaign_recipients (campaign_id, seq);
    CREATE INDEX campaign_recipients_state ON campaign_recipients (campaign_id, state, seq);
    ALTER TABLE messages ADD COLUMN campaign_id TEXT;
    CREATE INDEX messages_campaign ON messages (campaign_id, status)
        WHERE campaign_id IS NOT NULL;
    CREATE INDEX messages_campaign_texts ON messages (conversation_id, created_at)
        WHERE campaign_id IS NOT NULL AND sid IS NOT NULL;
    """,
    # Campaign answers: each subscriber's counted answer, and every MessageSid already
    # read as an answer (a provider retry changes nothing).
    """
    CREATE TABLE campaign_answers (
        campaign_id TEXT NOT NULL,
        subscriber TEXT NOT NULL,
        choice TEXT NOT NULL,
        text TEXT NOT NULL,
        sid TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (campaign_id, subscriber)
    );
    CREATE INDEX campaign_answers_at ON campaign_answers (campaign_id, at);
    CREATE TABLE answer_sids (
        sid TEXT PRIMARY KEY
    );
    ALTER TABLE messages ADD COLUMN answers TEXT;
    """,
    # Ratings by when they came (the feedback report), and each subscriber's last review
    # request (one per `review_every_days`).
    """
    CREATE INDEX campaign_answers_when ON campaign_answers (at);
    CREATE TABLE review_requests (
        business_number TEXT NOT NULL,
        subscriber TEXT NOT NULL,
        key TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (business_number, subscriber)
    );
    """,
    # Each lane's head (its oldest unfinished job) is marked, so a claim walks the heads
    # only: walking every pending job cost milliseconds per claim behind a burst's
    # backlog, on the one thread that also commits the webhooks. Triggers keep the mark
    # on every write (no statement of the store's, and no round trip, is spent on it):
    # a job that joins a lane with nothing older unfinished is its head, and one that
    # leaves it (done, dead, or back at the tail) passes the mark to the next.
    """
    ALTER TABLE jobs ADD COLUMN head INTEGER NOT NULL DEFAULT 0;
    UPDATE jobs SET head = 1 WHERE seq IN (
        SELECT min(seq) FROM jobs WHERE state IN ('pending', 'running') GROUP BY lane);
    DROP INDEX jobs_pending;
    CREATE INDEX jobs_heads ON jobs (seq) WHERE head = 1 AND state = 'pending';
    CREATE TRIGGER jobs_head_joins AFTER INSERT ON jobs WHEN NEW.state = 'pending'
    BEGIN
        UPDATE jobs SET head = 1 WHERE key = NEW.key AND NOT EXISTS (
            SELECT 1 FROM jobs k INDEXED BY jobs_lane WHERE k.lane = NEW.lane
              AND k.state IN ('pending', 'running') AND k.seq < NEW.seq);
    END;
    CREATE TRIGGER jobs_head_leaves AFTER DELETE ON jobs WHEN OLD.head = 1
    BEGIN
        UPDATE jobs SET head = 1 WHERE head = 0 AND seq = (
            SELECT min(seq) FROM jobs INDEXED BY jobs_lane
            WHERE lane = OLD.lane AND state IN ('pending', 'running'));
    END;
    CREATE TRIGGER jobs_head_moves AFTER UPDATE OF state, seq ON jobs
    WHEN NEW.state IS NOT OLD.state OR NEW.seq IS NOT OLD.seq
    BEGIN
        UPDATE jobs SET head = 0 WHERE key = NEW.key AND head = 1 AND (
            NEW.state NOT IN ('pending', 'running') OR EXISTS (
                SELECT 1 FROM jobs k INDEXED BY jobs_lane WHERE k.lane = NEW.lane
                  AND k.state IN ('pending', 'running') AND k.seq < NEW.seq));
        UPDATE jobs SET head = 1 WHERE head = 0 AND seq = (
            SELECT min(seq) FROM jobs INDEXED BY jobs_lane
            WHERE lane = NEW.lane AND state IN ('pending', 'running'));
    END;
    """,
    # Lessons agents propose for the assistant (one per handed-off text), pending ones
    # oldest first; and what agents did with each knowledge-base entry's drafts.
    """
    CREATE TABLE lessons (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        proposed_at REAL NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX lessons_pending ON lessons (state, proposed_at);
    CREATE TABLE draft_outcomes (
        entry_id TEXT PRIMARY KEY,
        sent INTEGER NOT NULL DEFAULT 0,
        edited INTEGER NOT NULL DEFAULT 0,
        discarded INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX draft_outcomes_corrected ON draft_outcomes ((edited + discarded) DESC, entry_id);
    """,
    # Texts of a burst share the Slack message that carries them: (channel, ts) stays a
    # reply's unique key, and is an index of its own for finding a message's texts.
    """
    DROP INDEX messages_slack;
    CREATE UNIQUE INDEX messages_slack ON messages (slack_channel, slack_ts)
        WHERE direction = 'outbound';
    CREATE INDEX messages_carried ON messages (slack_channel, slack_ts);
    """,
    # Pacing shared by the processes on this file: per key, its next theoretical arrival
    # time, the last turn booked for a caller sent away, its hold, and the answer of the
    # last reservation (read back in the statement that made it). Epoch seconds.
    """
    CREATE TABLE pace (
        key TEXT PRIMARY KEY,
        tat REAL NOT NULL,
        booked REAL NOT NULL DEFAULT 0,
        held_until REAL NOT NULL DEFAULT 0,
        turn REAL NOT NULL DEFAULT 0,
        taken INTEGER NOT NULL DEFAULT 1
    ) WITHOUT ROWID;
    """,
)
