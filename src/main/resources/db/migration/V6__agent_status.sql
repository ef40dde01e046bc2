-- Each supervised agent's last known state, written by the kernel that supervises it (the one
-- holding the agent's advisory lock), so that every kernel sharing this database can answer
-- /api/status, and a kernel taking over carries on today's restart count.
CREATE TABLE agent_status (
    agent          VARCHAR(50)  PRIMARY KEY,
    kernel         VARCHAR(200) NOT NULL,
    state          VARCHAR(20)  NOT NULL,
    pid            BIGINT       NOT NULL DEFAULT 0,
    started_at     TIMESTAMPTZ,
    last_check     TIMESTAMPTZ,
    healthy        BOOLEAN      NOT NULL DEFAULT false,
    restarts_today INTEGER      NOT NULL DEFAULT 0,
    git_tag        VARCHAR(100),
    git_hash       VARCHAR(64),
    detail         TEXT,
    updated_at     TIMESTAMPTZ  NOT NULL DEFAULT now()
);

-- Pruning keeps 24 hours per agent.
CREATE INDEX health_checks_agent_created ON health_checks (agent, created_at);
