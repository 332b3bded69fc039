"""The workspace schema, as numbered migrations that upgrade an existing database in place.

Each migration is a list of statements in the SQL both engines speak (SQLite and
PostgreSQL). Times are UTC epoch seconds (``DOUBLE PRECISION``), so both engines compare
them the same way. A migration is applied once, in its own transaction, and recorded in
``govsocial_meta`` under ``schema_version``. Never edit a published migration: add one.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

MIGRATIONS: tuple[tuple[str, ...], ...] = (
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
)

SCHEMA_VERSION = len(MIGRATIONS)
