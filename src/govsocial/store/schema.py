"""The workspace schema, as numbered migrations that upgrade an existing database in place.

Each migration is a list of statements in the SQL both engines speak (SQLite and
PostgreSQL); a statement only one engine runs is written ``(engine, sql)``. Times are
UTC epoch seconds (``DOUBLE PRECISION``), so both engines compare them the same way. A
migration is applied once, in its own transaction, and recorded in ``govsocial_meta``
under ``schema_version``. Never edit a published migration: add one.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

MIGRATIONS: tuple[tuple[str | tuple[str, str], ...], ...] = (
    # 1: accounts, jobs and their deliveries (one per account and occurrence)
    (
        """CREATE TABLE accounts (
            name TEXT PRIMARY KEY,
            platform TEXT NOT NULL,
            handle TEXT NOT NULL,
            base_url TEXT,
            timezone TEXT NOT NULL,
            display_name TEXT,
            credentials TEXT NOT NULL,
            slots TEXT,
            created_at DOUBLE PRECISION NOT NULL
        )""",
        """CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            post TEXT NOT NULL,
            recurrence TEXT,
            cancelled INTEGER NOT NULL DEFAULT 0,
            created_at DOUBLE PRECISION NOT NULL
        )""",
        """CREATE TABLE deliveries (
            id TEXT PRIMARY KEY,
            job_id TEXT NOT NULL REFERENCES jobs(id),
            account TEXT NOT NULL REFERENCES accounts(name),
            occurrence INTEGER NOT NULL DEFAULT 0,
            scheduled_at DOUBLE PRECISION NOT NULL,
            due_at DOUBLE PRECISION NOT NULL,
            status TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            lease_owner TEXT,
            lease_until DOUBLE PRECISION,
            sending_at DOUBLE PRECISION,
            remote_id TEXT,
            remote_url TEXT,
            remote_extra TEXT,
            error TEXT,
            error_type TEXT,
            updated_at DOUBLE PRECISION NOT NULL,
            UNIQUE (job_id, account, occurrence)
        )""",
        "CREATE INDEX deliveries_due ON deliveries (status, due_at)",
        "CREATE INDEX deliveries_job ON deliveries (job_id)",
        "CREATE INDEX deliveries_lease ON deliveries (lease_owner)",
    ),
    # 2: metrics snapshots, and when each published post is measured next
    (
        """CREATE TABLE post_metrics (
            delivery_id TEXT NOT NULL REFERENCES deliveries(id),
            collected_at DOUBLE PRECISION NOT NULL,
            views BIGINT,
            reach BIGINT,
            likes BIGINT,
            reposts BIGINT,
            replies BIGINT,
            quotes BIGINT,
            bookmarks BIGINT,
            clicks BIGINT,
            raw TEXT,
            PRIMARY KEY (delivery_id, collected_at)
        )""",
        """CREATE TABLE account_metrics (
            account TEXT NOT NULL REFERENCES accounts(name),
            collected_at DOUBLE PRECISION NOT NULL,
            followers BIGINT,
            following BIGINT,
            posts BIGINT,
            raw TEXT,
            PRIMARY KEY (account, collected_at)
        )""",
        "ALTER TABLE deliveries ADD COLUMN published_at DOUBLE PRECISION",
        "ALTER TABLE deliveries ADD COLUMN metrics_next_at DOUBLE PRECISION",
        "CREATE INDEX deliveries_metrics ON deliveries (status, metrics_next_at)",
    ),
    # 3: an adapter's checkpoint per delivery (Instagram's container id), so a retry resumes
    (
        "ALTER TABLE deliveries ADD COLUMN checkpoint TEXT",
        "CREATE INDEX deliveries_key ON deliveries (idempotency_key)",
    ),
    # 4: accountability: people, appointments (SK), approval rules, drafts and approvals,
    # content requests from other units, the hash-chained audit log, deletions kept
    (
        """CREATE TABLE people (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            unit TEXT,
            created_at DOUBLE PRECISION NOT NULL
        )""",
        """CREATE TABLE appointments (
            id TEXT PRIMARY KEY,
            person TEXT NOT NULL REFERENCES people(id),
            account TEXT NOT NULL REFERENCES accounts(name),
            role TEXT NOT NULL,
            decree TEXT NOT NULL,
            valid_from TEXT NOT NULL,
            valid_until TEXT,
            created_at DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX appointments_account ON appointments (account, person)",
        """CREATE TABLE approval_rules (
            account TEXT PRIMARY KEY REFERENCES accounts(name),
            approvers INTEGER NOT NULL,
            admin_needs_approval INTEGER NOT NULL,
            self_approval INTEGER NOT NULL
        )""",
        """CREATE TABLE drafts (
            id TEXT PRIMARY KEY,
            post TEXT NOT NULL,
            accounts TEXT NOT NULL,
            author TEXT NOT NULL,
            publish_at DOUBLE PRECISION,
            recurrence TEXT,
            status TEXT NOT NULL,
            reason TEXT,
            request_id TEXT,
            job_id TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            decided_at DOUBLE PRECISION
        )""",
        """CREATE TABLE approvals (
            draft_id TEXT NOT NULL REFERENCES drafts(id),
            person TEXT NOT NULL REFERENCES people(id),
            decree TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (draft_id, person)
        )""",
        """CREATE TABLE content_requests (
            id TEXT PRIMARY KEY,
            from_unit TEXT NOT NULL,
            topic TEXT NOT NULL,
            details TEXT,
            attachments TEXT NOT NULL,
            due_at DOUBLE PRECISION,
            status TEXT NOT NULL,
            requested_by TEXT,
            draft_id TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            fulfilled_at DOUBLE PRECISION
        )""",
        """CREATE TABLE audit_log (
            seq BIGINT PRIMARY KEY,
            at DOUBLE PRECISION NOT NULL,
            actor TEXT,
            action TEXT NOT NULL,
            object TEXT,
            account TEXT,
            decree TEXT,
            detail TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )""",
        "CREATE INDEX audit_log_at ON audit_log (at)",
        "ALTER TABLE jobs ADD COLUMN authority TEXT",
        "ALTER TABLE deliveries ADD COLUMN deleted_at DOUBLE PRECISION",
        (
            "sqlite",
            """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
        ),
        (
            "sqlite",
            """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
        ),
        (
            "postgresql",
            """CREATE OR REPLACE FUNCTION govsocial_audit_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$""",
        ),
        (
            "postgresql",
            """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION govsocial_audit_append_only()""",
        ),
    ),
    # 5: the inbox of replies and mentions, sync cursors, and each account's service hours
    (
        """CREATE TABLE inbox_items (
            id TEXT PRIMARY KEY,
            account TEXT NOT NULL REFERENCES accounts(name),
            remote_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            url TEXT,
            ref_extra TEXT NOT NULL,
            author TEXT NOT NULL,
            author_name TEXT,
            text TEXT NOT NULL,
            received_at DOUBLE PRECISION NOT NULL,
            in_reply_to_id TEXT,
            delivery_id TEXT,
            status TEXT NOT NULL,
            assigned_to TEXT,
            responded_at DOUBLE PRECISION,
            responder TEXT,
            response_id TEXT,
            response_url TEXT,
            closed_at DOUBLE PRECISION,
            closed_by TEXT,
            close_reason TEXT,
            synced_at DOUBLE PRECISION NOT NULL,
            UNIQUE (account, remote_id)
        )""",
        "CREATE INDEX inbox_status ON inbox_items (status, received_at)",
        """CREATE TABLE inbox_cursors (
            account TEXT NOT NULL REFERENCES accounts(name),
            kind TEXT NOT NULL,
            value TEXT NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (account, kind)
        )""",
        """CREATE TABLE service_hours (
            account TEXT PRIMARY KEY REFERENCES accounts(name),
            spec TEXT NOT NULL,
            target_seconds DOUBLE PRECISION NOT NULL
        )""",
    ),
    # 6: an inbox item's received_at is the platform's (or govsocial's) clock; the date
    # its author wrote is kept beside it, and a far-future or backdated one is flagged
    (
        "ALTER TABLE inbox_items ADD COLUMN claimed_at DOUBLE PRECISION",
        "ALTER TABLE inbox_items ADD COLUMN clock_skew INTEGER NOT NULL DEFAULT 0",
    ),
    # 7: erasure (UU PDP, GDPR): when an item's citizen content was erased (on request or
    # by the retention setting); its remote id is then a keyed pseudonym, so a later sync
    # still recognises it; retention reads items by when they arrived
    (
        "ALTER TABLE inbox_items ADD COLUMN erased_at DOUBLE PRECISION",
        "CREATE INDEX inbox_received ON inbox_items (received_at)",
    ),
    # 8: every inbox item's classification (intent, sentiment, confidence, which classifier
    # decided, the language read), its reasons in one column of their own (they quote the
    # citizen's words, so erasing a message erases them with it), when its emergency notice
    # went out; and the re-labels people made, the training data for a better classifier
    (
        "ALTER TABLE inbox_items ADD COLUMN intent TEXT",
        "ALTER TABLE inbox_items ADD COLUMN sentiment TEXT",
        "ALTER TABLE inbox_items ADD COLUMN confidence DOUBLE PRECISION",
        "ALTER TABLE inbox_items ADD COLUMN classifier TEXT",
        "ALTER TABLE inbox_items ADD COLUMN language TEXT",
        "ALTER TABLE inbox_items ADD COLUMN reasons TEXT",
        "ALTER TABLE inbox_items ADD COLUMN notified_at DOUBLE PRECISION",
        "CREATE INDEX inbox_intent ON inbox_items (intent, status)",
        """CREATE TABLE inbox_labels (
            id TEXT PRIMARY KEY,
            item_id TEXT NOT NULL REFERENCES inbox_items(id) ON DELETE CASCADE,
            intent TEXT NOT NULL,
            sentiment TEXT,
            previous_intent TEXT,
            previous_sentiment TEXT,
            previous_classifier TEXT,
            labelled_by TEXT,
            labelled_at DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX inbox_labels_item ON inbox_labels (item_id, labelled_at)",
    ),
    # 9: accounts whose credentials a worker could not open (wrong or missing key, a missing
    # env: variable): their deliveries wait, unclaimed, until a worker can open them again
    (
        """CREATE TABLE account_locks (
            account TEXT PRIMARY KEY REFERENCES accounts(name),
            reason TEXT NOT NULL,
            locked_at DOUBLE PRECISION NOT NULL,
            locked_by TEXT
        )""",
    ),
    # 10: heads of office (workspace-wide appointments, so no account), appointments ended
    # early (revoked, by whom and why), the rule for drafts whose time passed while they
    # waited, and audit entries and drafts found by object and job (the worker's checks at
    # publication look both up for every delivery)
    (
        (
            "sqlite",
            """CREATE TABLE appointments_v10 (
            id TEXT PRIMARY KEY,
            person TEXT NOT NULL REFERENCES people(id),
            account TEXT REFERENCES accounts(name),
            role TEXT NOT NULL,
            decree TEXT NOT NULL,
            valid_from TEXT NOT NULL,
            valid_until TEXT,
            created_at DOUBLE PRECISION NOT NULL
        )""",
        ),
        (
            "sqlite",
            "INSERT INTO appointments_v10 (id, person, account, role, decree, valid_from, "
            "valid_until, created_at) SELECT id, person, account, role, decree, valid_from, "
            "valid_until, created_at FROM appointments",
        ),
        ("sqlite", "DROP TABLE appointments"),
        ("sqlite", "ALTER TABLE appointments_v10 RENAME TO appointments"),
        ("sqlite", "CREATE INDEX appointments_account ON appointments (account, person)"),
        ("postgresql", "ALTER TABLE appointments ALTER COLUMN account DROP NOT NULL"),
        "ALTER TABLE appointments ADD COLUMN revoked_at DOUBLE PRECISION",
        "ALTER TABLE appointments ADD COLUMN revoked_by TEXT",
        "ALTER TABLE appointments ADD COLUMN revoke_reason TEXT",
        "ALTER TABLE approval_rules ADD COLUMN late_drafts_need_admin INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX audit_log_object ON audit_log (object, action)",
        "CREATE INDEX drafts_job ON drafts (job_id)",
    ),
    # 11: signed actions and pinned content: a person's Ed25519 public key, an audit entry's
    # signature, the content (text, variants, media digests) a draft pins and an approval
    # covers (audit entries are found by their object through migration 10's index)
    (
        "ALTER TABLE people ADD COLUMN public_key TEXT",
        "ALTER TABLE audit_log ADD COLUMN signature TEXT",
        "ALTER TABLE drafts ADD COLUMN content TEXT",
        "ALTER TABLE approvals ADD COLUMN content TEXT",
    ),
    # 12: watched topics (listening beyond the inbox): each watch's query and accounts and how
    # far its spikes were checked, where each account's search stopped, the posts found (once
    # per watch, platform and post id, whatever syncs run at once), classified, erased as the
    # inbox's items are, and the hours flagged as spikes
    (
        """CREATE TABLE watches (
            name TEXT PRIMARY KEY,
            query TEXT NOT NULL,
            accounts TEXT NOT NULL,
            spike_min INTEGER NOT NULL,
            spike_sd DOUBLE PRECISION NOT NULL,
            created_by TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            stopped_at DOUBLE PRECISION,
            spikes_checked DOUBLE PRECISION
        )""",
        """CREATE TABLE watch_cursors (
            watch TEXT NOT NULL REFERENCES watches(name),
            account TEXT NOT NULL,
            cursor TEXT,
            covered_from DOUBLE PRECISION,
            synced_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (watch, account)
        )""",
        """CREATE TABLE watched_posts (
            id TEXT PRIMARY KEY,
            watch TEXT NOT NULL REFERENCES watches(name),
            platform TEXT NOT NULL,
            remote_id TEXT NOT NULL,
            account TEXT NOT NULL,
            url TEXT,
            author TEXT NOT NULL,
            author_name TEXT,
            text TEXT NOT NULL,
            claimed_at DOUBLE PRECISION,
            received_at DOUBLE PRECISION NOT NULL,
            found_at DOUBLE PRECISION NOT NULL,
            intent TEXT,
            sentiment TEXT,
            confidence DOUBLE PRECISION,
            classifier TEXT,
            language TEXT,
            reasons TEXT,
            erased_at DOUBLE PRECISION,
            UNIQUE (watch, platform, remote_id)
        )""",
        "CREATE INDEX watched_posts_received ON watched_posts (watch, received_at)",
        "CREATE INDEX watched_posts_unclassified ON watched_posts (intent)",
        "CREATE INDEX watched_posts_found ON watched_posts (watch, found_at)",
        """CREATE TABLE watch_spikes (
            watch TEXT NOT NULL REFERENCES watches(name),
            hour_start DOUBLE PRECISION NOT NULL,
            posts INTEGER NOT NULL,
            baseline_mean DOUBLE PRECISION NOT NULL,
            baseline_sd DOUBLE PRECISION NOT NULL,
            threshold DOUBLE PRECISION NOT NULL,
            flagged_at DOUBLE PRECISION NOT NULL,
            notified_at DOUBLE PRECISION,
            PRIMARY KEY (watch, hour_start)
        )""",
    ),
    # 13: followed feeds (the central narrative: Komdigi's GPR, a ministry's RSS or Atom),
    # their HTTP validators for conditional GETs, and each item seen, once per feed: the
    # primary key is what makes a second sync (a restart, a process running at the same
    # moment) skip an item whose draft is already made, in the draft's own transaction
    (
        """CREATE TABLE feeds (
            name TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            accounts TEXT NOT NULL,
            planner TEXT NOT NULL,
            language TEXT NOT NULL,
            source TEXT,
            etag TEXT,
            last_modified TEXT,
            checked_at DOUBLE PRECISION,
            error TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            stopped_at DOUBLE PRECISION
        )""",
        """CREATE TABLE feed_items (
            feed TEXT NOT NULL REFERENCES feeds(name),
            item_key TEXT NOT NULL,
            draft_id TEXT,
            title TEXT NOT NULL,
            link TEXT,
            error TEXT,
            seen_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (feed, item_key)
        )""",
    ),
    # 14: escalation of inbox items to a ticket system (a signed webhook, email, a plugin's
    # target): one row per item and target, written before anything is sent (so a second
    # escalation sends nothing and a crash leaves a trace), and the item's latest ticket
    (
        """CREATE TABLE inbox_escalations (
            item_id TEXT NOT NULL REFERENCES inbox_items(id),
            target TEXT NOT NULL,
            escalation_id TEXT NOT NULL,
            status TEXT NOT NULL,
            reference TEXT,
            url TEXT,
            escalated_by TEXT,
            started_at DOUBLE PRECISION NOT NULL,
            sent_at DOUBLE PRECISION,
            error TEXT,
            PRIMARY KEY (item_id, target)
        )""",
        "ALTER TABLE inbox_items ADD COLUMN ticket TEXT",
        "ALTER TABLE inbox_items ADD COLUMN ticket_target TEXT",
        "ALTER TABLE inbox_items ADD COLUMN escalated_at DOUBLE PRECISION",
    ),
    # 15: throughput (issue 17): a worker's checks at publication read one account's audit
    # entries of a job planned for thousands of accounts, not every account's
    ("CREATE INDEX audit_log_object_account ON audit_log (object, account, action)",),
)

SCHEMA_VERSION = len(MIGRATIONS)
