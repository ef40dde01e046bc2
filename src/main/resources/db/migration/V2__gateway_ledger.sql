-- The gateway's budget ledger. Every admitted call first holds a pessimistic reservation (a
-- budget_usage row with status 'reserved' and its worst-case cost), later settled to the real
-- cost; budget_months keeps each provider's monthly sum as one row, so a conditional UPDATE of
-- that row serializes every reservation for the provider across all kernels sharing the database.
-- Invariant: budget_months.spent = SUM(budget_usage.cost) of that provider and UTC month.

ALTER TABLE budget_usage
    ADD COLUMN status     VARCHAR(10) NOT NULL DEFAULT 'settled'
        CHECK (status IN ('reserved', 'settled', 'failed', 'abandoned')),
    ADD COLUMN error      TEXT,
    ADD COLUMN settled_at TIMESTAMPTZ;

CREATE INDEX budget_usage_requester_created ON budget_usage (requested_by, created_at);
CREATE INDEX budget_usage_open_reservations ON budget_usage (created_at) WHERE status = 'reserved';

CREATE TABLE budget_months (
    provider VARCHAR(50)    NOT NULL,
    month    DATE           NOT NULL,
    spent    DECIMAL(14, 6) NOT NULL,
    PRIMARY KEY (provider, month)
);

-- Sliding-window log for per-agent requests/minute and tokens/minute; rows older than an hour
-- are pruned by the kernel.
CREATE TABLE agent_requests (
    id     BIGSERIAL PRIMARY KEY,
    agent  VARCHAR(50) NOT NULL,
    at     TIMESTAMPTZ NOT NULL,
    tokens INTEGER     NOT NULL
);

CREATE INDEX agent_requests_agent_at ON agent_requests (agent, at);

-- One round trip admits a call: the agent's rate limits and quotas (NULL = unlimited; skipped when
-- p_request is given, i.e. for a fallback attempt of a request already admitted), then the first
-- candidate whose worst-case cost fits its provider's limit (NULL limit = free, never reserved).
CREATE FUNCTION jodo_admit(
    p_agent TEXT, p_now TIMESTAMPTZ, p_intent TEXT, p_request BIGINT,
    p_tokens_in INTEGER, p_tokens_total INTEGER,
    p_rpm INTEGER, p_tpm BIGINT, p_tpd BIGINT, p_cpm NUMERIC,
    p_providers TEXT[], p_models TEXT[], p_costs NUMERIC[], p_limits NUMERIC[])
RETURNS TABLE (outcome TEXT, chosen INTEGER, usage_id BIGINT, request_id BIGINT,
               retry_after_ms BIGINT, used NUMERIC, spent_seen NUMERIC[])
LANGUAGE plpgsql AS $$
DECLARE
    v_utc          TIMESTAMP   := p_now AT TIME ZONE 'UTC';
    v_month        DATE        := date_trunc('month', v_utc)::date;
    v_month_start  TIMESTAMPTZ := date_trunc('month', v_utc) AT TIME ZONE 'UTC';
    v_month_end    TIMESTAMPTZ := (date_trunc('month', v_utc) + interval '1 month') AT TIME ZONE 'UTC';
    v_day_start    TIMESTAMPTZ := date_trunc('day', v_utc) AT TIME ZONE 'UTC';
    v_count        BIGINT;
    v_expire       TIMESTAMPTZ;
    v_used         NUMERIC;
    v_agent_cost   NUMERIC := 0;
    v_spent        NUMERIC;
    v_seen         NUMERIC[] := '{}';
    v_chosen       INTEGER;
    v_usage        BIGINT;
    v_request      BIGINT := p_request;
    v_limited      BOOLEAN := p_rpm IS NOT NULL OR p_tpm IS NOT NULL OR p_tpd IS NOT NULL OR p_cpm IS NOT NULL;
BEGIN
    IF v_limited THEN
        PERFORM pg_advisory_xact_lock(hashtext('jodo.agent.' || p_agent));
    END IF;

    IF p_request IS NULL AND p_rpm IS NOT NULL THEN
        SELECT count(*) INTO v_count FROM agent_requests
         WHERE agent = p_agent AND at > p_now - interval '1 minute';
        IF v_count >= p_rpm THEN
            SELECT at INTO v_expire FROM agent_requests
             WHERE agent = p_agent AND at > p_now - interval '1 minute'
             ORDER BY at, id OFFSET (v_count - p_rpm) LIMIT 1;
            RETURN QUERY SELECT 'rate_requests'::text, NULL::int, NULL::bigint, NULL::bigint,
                ceil(extract(epoch FROM (v_expire + interval '1 minute' - p_now)) * 1000)::bigint,
                v_count::numeric, NULL::numeric[];
            RETURN;
        END IF;
    END IF;

    IF p_request IS NULL AND p_tpm IS NOT NULL THEN
        SELECT coalesce(sum(tokens), 0) INTO v_used FROM agent_requests
         WHERE agent = p_agent AND at > p_now - interval '1 minute';
        IF p_tokens_total > p_tpm THEN
            RETURN QUERY SELECT 'rate_tokens_never'::text, NULL::int, NULL::bigint, NULL::bigint,
                60000::bigint, v_used, NULL::numeric[];
            RETURN;
        END IF;
        -- The newest row that must leave the window before this request fits.
        SELECT w.at INTO v_expire FROM (
            SELECT at, id, sum(tokens) OVER (ORDER BY at DESC, id DESC) AS suffix
              FROM agent_requests WHERE agent = p_agent AND at > p_now - interval '1 minute') w
         WHERE w.suffix + p_tokens_total > p_tpm
         ORDER BY w.at DESC, w.id DESC LIMIT 1;
        IF v_expire IS NOT NULL THEN
            RETURN QUERY SELECT 'rate_tokens'::text, NULL::int, NULL::bigint, NULL::bigint,
                ceil(extract(epoch FROM (v_expire + interval '1 minute' - p_now)) * 1000)::bigint,
                v_used, NULL::numeric[];
            RETURN;
        END IF;
    END IF;

    IF p_request IS NULL AND p_tpd IS NOT NULL THEN
        SELECT coalesce(sum(coalesce(tokens_in, 0) + coalesce(tokens_out, 0)), 0) INTO v_used
          FROM budget_usage
         WHERE requested_by = p_agent AND created_at >= v_day_start
           AND created_at < v_day_start + interval '1 day';
        IF v_used + p_tokens_total > p_tpd THEN
            RETURN QUERY SELECT 'quota_tokens_day'::text, NULL::int, NULL::bigint, NULL::bigint,
                ceil(extract(epoch FROM (v_day_start + interval '1 day' - p_now)) * 1000)::bigint,
                v_used, NULL::numeric[];
            RETURN;
        END IF;
    END IF;

    IF p_cpm IS NOT NULL THEN
        SELECT coalesce(sum(cost), 0) INTO v_agent_cost FROM budget_usage
         WHERE requested_by = p_agent AND created_at >= v_month_start AND created_at < v_month_end;
    END IF;

    FOR i IN 1 .. coalesce(array_length(p_providers, 1), 0) LOOP
        v_spent := NULL;
        IF p_cpm IS NOT NULL AND v_agent_cost + p_costs[i] > p_cpm THEN
            v_seen := v_seen || NULL::numeric;
            CONTINUE;
        END IF;
        IF p_limits[i] IS NULL THEN
            v_chosen := i;
            EXIT;
        END IF;
        UPDATE budget_months SET spent = spent + p_costs[i]
         WHERE provider = p_providers[i] AND month = v_month AND spent + p_costs[i] <= p_limits[i]
        RETURNING spent INTO v_spent;
        IF NOT FOUND THEN
            INSERT INTO budget_months (provider, month, spent)
            SELECT p_providers[i], v_month, coalesce(sum(cost), 0) FROM budget_usage
             WHERE provider = p_providers[i] AND created_at >= v_month_start AND created_at < v_month_end
            ON CONFLICT DO NOTHING;
            UPDATE budget_months SET spent = spent + p_costs[i]
             WHERE provider = p_providers[i] AND month = v_month AND spent + p_costs[i] <= p_limits[i]
            RETURNING spent INTO v_spent;
        END IF;
        IF FOUND THEN
            v_chosen := i;
            EXIT;
        END IF;
        SELECT spent INTO v_spent FROM budget_months WHERE provider = p_providers[i] AND month = v_month;
        v_seen := v_seen || v_spent;
    END LOOP;

    IF v_chosen IS NULL THEN
        RETURN QUERY SELECT (CASE WHEN p_cpm IS NOT NULL AND array_length(p_providers, 1) > 0
                                   AND v_agent_cost + (SELECT min(c) FROM unnest(p_costs) c) > p_cpm
                              THEN 'quota_cost_month' ELSE 'unaffordable' END)::text,
            NULL::int, NULL::bigint, NULL::bigint,
            ceil(extract(epoch FROM (v_month_end - p_now)) * 1000)::bigint,
            v_agent_cost, v_seen;
        RETURN;
    END IF;

    INSERT INTO budget_usage (provider, model, intent, tokens_in, tokens_out, cost, requested_by, status, created_at)
    VALUES (p_providers[v_chosen], p_models[v_chosen], p_intent, p_tokens_in,
            p_tokens_total - p_tokens_in, p_costs[v_chosen], p_agent, 'reserved', p_now)
    RETURNING id INTO v_usage;

    IF v_request IS NULL AND (p_rpm IS NOT NULL OR p_tpm IS NOT NULL) THEN
        INSERT INTO agent_requests (agent, at, tokens) VALUES (p_agent, p_now, p_tokens_total)
        RETURNING id INTO v_request;
    END IF;

    RETURN QUERY SELECT 'admitted'::text, v_chosen, v_usage, v_request, NULL::bigint, NULL::numeric, v_seen;
END
$$;

-- Settles a reservation to what the call really cost (status 'settled'), or releases it (status
-- 'failed', cost 0, with the error). Returns every provider's spend of p_now's month, so a caller
-- can report remaining budgets without another round trip.
CREATE FUNCTION jodo_settle(
    p_usage BIGINT, p_status TEXT, p_tokens_in INTEGER, p_tokens_out INTEGER, p_cost NUMERIC,
    p_error TEXT, p_request BIGINT, p_request_tokens INTEGER, p_now TIMESTAMPTZ)
RETURNS TABLE (provider TEXT, spent NUMERIC)
LANGUAGE plpgsql AS $$
DECLARE
    v_old      NUMERIC;
    v_provider TEXT;
    v_created  TIMESTAMPTZ;
BEGIN
    SELECT u.cost, u.provider, u.created_at INTO v_old, v_provider, v_created
      FROM budget_usage u WHERE u.id = p_usage AND u.status = 'reserved' FOR UPDATE;
    IF FOUND THEN
        UPDATE budget_usage
           SET status = p_status, tokens_in = p_tokens_in, tokens_out = p_tokens_out,
               cost = p_cost, error = p_error, settled_at = p_now
         WHERE id = p_usage;
        UPDATE budget_months m SET spent = m.spent - v_old + p_cost
         WHERE m.provider = v_provider
           AND m.month = date_trunc('month', v_created AT TIME ZONE 'UTC')::date;
    END IF;
    IF p_request IS NOT NULL AND p_request_tokens IS NOT NULL THEN
        UPDATE agent_requests SET tokens = p_request_tokens WHERE id = p_request;
    END IF;
    RETURN QUERY SELECT m.provider::text, m.spent FROM budget_months m
                  WHERE m.month = date_trunc('month', p_now AT TIME ZONE 'UTC')::date;
END
$$;
