-- Seed 000's tables. pgvector is not required: embeddings are real[] and the vector index is a
-- Lucene index each kernel derives from this table.

CREATE TABLE memories (
    id              TEXT PRIMARY KEY,
    namespace       VARCHAR(50)  NOT NULL,
    content         TEXT         NOT NULL,
    embedding       REAL[],
    embedding_model VARCHAR(200),
    tags            TEXT[]       NOT NULL DEFAULT '{}',
    source          VARCHAR(100),
    created_at      TIMESTAMPTZ  NOT NULL DEFAULT now(),
    deleted_at      TIMESTAMPTZ
);

CREATE INDEX memories_live_by_namespace ON memories (namespace, created_at) WHERE deleted_at IS NULL;

CREATE TABLE budget_usage (
    id           BIGSERIAL PRIMARY KEY,
    provider     VARCHAR(50)    NOT NULL,
    model        VARCHAR(100)   NOT NULL,
    intent       VARCHAR(50),
    tokens_in    INTEGER,
    tokens_out   INTEGER,
    cost         DECIMAL(10, 6),
    requested_by VARCHAR(50)    DEFAULT 'jodo',
    created_at   TIMESTAMPTZ    NOT NULL DEFAULT now()
);

CREATE INDEX budget_usage_provider_created ON budget_usage (provider, created_at);
CREATE INDEX budget_usage_created ON budget_usage (created_at);

CREATE TABLE growth_log (
    id         BIGSERIAL PRIMARY KEY,
    agent      VARCHAR(50)  NOT NULL DEFAULT 'jodo',
    event      VARCHAR(100) NOT NULL,
    note       TEXT,
    git_hash   VARCHAR(40),
    metadata   JSONB        NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ  NOT NULL DEFAULT now()
);

CREATE INDEX growth_log_agent_created ON growth_log (agent, created_at);

CREATE TABLE health_checks (
    id               BIGSERIAL PRIMARY KEY,
    agent            VARCHAR(50) NOT NULL DEFAULT 'jodo',
    status           VARCHAR(20) NOT NULL,
    response_time_ms INTEGER,
    details          JSONB       NOT NULL DEFAULT '{}',
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX health_checks_created ON health_checks (created_at);

-- Bearer tokens, stored as SHA-256 hashes; the plaintext is shown once when created.
CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    kind         VARCHAR(10)  NOT NULL CHECK (kind IN ('admin', 'agent')),
    agent        VARCHAR(50),
    token_hash   BYTEA        NOT NULL UNIQUE,
    token_prefix VARCHAR(24)  NOT NULL,
    scopes       TEXT[]       NOT NULL DEFAULT '{}',
    created_at   TIMESTAMPTZ  NOT NULL DEFAULT now(),
    revoked_at   TIMESTAMPTZ,
    CHECK ((kind = 'agent') = (agent IS NOT NULL))
);

-- At most one live admin token, even when several kernels boot on an empty database at once.
CREATE UNIQUE INDEX api_tokens_one_live_admin ON api_tokens (kind) WHERE kind = 'admin' AND revoked_at IS NULL;
