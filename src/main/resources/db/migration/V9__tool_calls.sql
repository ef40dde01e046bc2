-- The audit of workspace tool calls: one row per call the model made, run or refused. The
-- arguments themselves are never stored, only their SHA-256.
CREATE TABLE tool_calls (
    id               BIGSERIAL    PRIMARY KEY,
    run_id           VARCHAR(64)  NOT NULL,
    tool             VARCHAR(64)  NOT NULL,
    arguments_sha256 CHAR(64)     NOT NULL,
    outcome          VARCHAR(10)  NOT NULL CHECK (outcome IN ('ok', 'error', 'timeout', 'refused')),
    exit_code        INTEGER,
    duration_ms      BIGINT       NOT NULL,
    output_bytes     INTEGER      NOT NULL,
    created_at       TIMESTAMPTZ  NOT NULL DEFAULT now()
);

CREATE INDEX tool_calls_run ON tool_calls (run_id);
