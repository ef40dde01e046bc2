-- Durable runs (DBOS keeps the workflows themselves in its own schema, "dbos").

-- Arrival order of events: a run's queue priority, so the runs of one conversation start
-- strictly in the order the kernels accepted them, whatever the clocks of those kernels say.
CREATE SEQUENCE run_order AS integer;

-- The conversation sessions the message workflow keeps: each run appends its user message and
-- the reply, once (a run replayed after a crash writes nothing twice).
CREATE TABLE session_messages (
    id               BIGSERIAL    PRIMARY KEY,
    conversation_key VARCHAR(200) NOT NULL,
    run_id           VARCHAR(64)  NOT NULL,
    seq              SMALLINT     NOT NULL,
    role             VARCHAR(20)  NOT NULL,
    content          TEXT         NOT NULL,
    created_at       TIMESTAMPTZ  NOT NULL DEFAULT now(),
    UNIQUE (run_id, seq)
);

CREATE INDEX session_messages_conversation ON session_messages (conversation_key, id);
