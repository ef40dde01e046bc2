-- Control-panel sessions. The cookie carries a random value; this table keeps only its SHA-256,
-- so reading the database opens no session. Every kernel sharing the database honours every
-- session, and logging out on one logs out on all.
CREATE TABLE dashboard_sessions (
    id_hash    BYTEA       PRIMARY KEY,
    csrf       TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX dashboard_sessions_expires ON dashboard_sessions (expires_at);

-- The memory page lists the newest live memories of every namespace.
CREATE INDEX memories_live_created ON memories (created_at DESC) WHERE deleted_at IS NULL;
