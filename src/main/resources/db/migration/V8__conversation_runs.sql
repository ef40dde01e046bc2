-- The order of the runs of each conversation, kept by the kernel instead of a partitioned DBOS
-- queue (whose dequeue costs a transaction per waiting conversation on every poll; see
-- docs/runs.md). A run may start once every earlier run of its conversation has finished.

ALTER SEQUENCE run_order AS bigint;

CREATE TABLE conversation_runs (
    run_id           VARCHAR(64)  PRIMARY KEY,
    conversation_key VARCHAR(200) NOT NULL,
    -- Arrival order: numbered under a per-conversation lock, so a run's number is visible to the
    -- later runs of its conversation before they are numbered themselves.
    run_order        BIGINT       NOT NULL,
    created_at       TIMESTAMPTZ  NOT NULL DEFAULT now(),
    -- Set only for a run that had to wait: when it was first found waiting (from then on it
    -- shows as queued) and when its turn came. A run that never waited writes neither.
    queued_at        TIMESTAMPTZ,
    started_at       TIMESTAMPTZ,
    -- Set in the same statement as the run's session append: from then on it blocks no one.
    finished_at      TIMESTAMPTZ
);

CREATE INDEX conversation_runs_waiting ON conversation_runs (conversation_key, run_order)
    WHERE finished_at IS NULL;
