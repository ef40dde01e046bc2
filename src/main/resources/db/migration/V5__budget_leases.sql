-- Budget leases. A kernel takes a slice of a provider's monthly budget under the provider's
-- budget_months row lock (a lease), then admits calls against the slice in memory and writes
-- each call's budget_usage row once, settled, in a batch. Calls of agents with quotas or rate
-- limits, and repair calls (which may spend the emergency reserve), keep the per-call
-- reservation of V2. The budget still cannot be overspent: what leases hold is counted as spent
-- the moment it is granted, so every kernel's admissions together stay within the budget.
--
-- Invariant per provider and UTC month:
--   budget_months.spent  = SUM(budget_usage.cost) + budget_months.leased
--   budget_months.leased = SUM(granted - consumed) over the month's open budget_leases
--
-- A lease is sized to what its kernel admitted in the last second, and only when the budget has
-- room for 64 more such calls; near the end of a budget a lease is exactly one call's worst case,
-- and what the call did not spend is given back when it settles, as with a reservation. A kernel
-- gives back what it holds after a second without admissions and when it stops. A lease whose
-- kernel stops renewing it (the kernel died) expires; what it still held is then recorded as an
-- 'abandoned' budget_usage row and stays counted, as V2 does with a dead kernel's reservations:
-- the provider may have billed the calls that were in flight.

ALTER TABLE budget_months ADD COLUMN leased DECIMAL(14, 6) NOT NULL DEFAULT 0;

CREATE TABLE budget_leases (
    id         BIGSERIAL PRIMARY KEY,
    provider   VARCHAR(50)    NOT NULL,
    month      DATE           NOT NULL,
    holder     TEXT           NOT NULL,
    granted    DECIMAL(14, 6) NOT NULL,
    consumed   DECIMAL(14, 6) NOT NULL DEFAULT 0,
    expires_at TIMESTAMPTZ    NOT NULL
);

CREATE INDEX budget_leases_expires ON budget_leases (expires_at);

-- Grants p_lease (a new lease when NULL or no longer open) at least p_need, and up to p_want when
-- the budget still has room for 64 calls of p_unit (one call's worst case) and the extra is at
-- most 1/16 of what is left. Returns the lease, the amount granted (0: refused) and the
-- provider's spend (leases included) after it, or as seen when refused.
CREATE FUNCTION jodo_lease(
    p_lease BIGINT, p_holder TEXT, p_provider TEXT, p_now TIMESTAMPTZ,
    p_need NUMERIC, p_unit NUMERIC, p_want NUMERIC, p_limit NUMERIC, p_ttl_ms BIGINT)
RETURNS TABLE (lease_id BIGINT, granted NUMERIC, spent NUMERIC)
LANGUAGE plpgsql AS $$
DECLARE
    v_utc         TIMESTAMP   := p_now AT TIME ZONE 'UTC';
    v_month       DATE        := date_trunc('month', v_utc)::date;
    v_month_start TIMESTAMPTZ := date_trunc('month', v_utc) AT TIME ZONE 'UTC';
    v_spent       NUMERIC;
    v_grant       NUMERIC;
    v_id          BIGINT;
BEGIN
    SELECT m.spent INTO v_spent FROM budget_months m
     WHERE m.provider = p_provider AND m.month = v_month FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO budget_months (provider, month, spent)
        SELECT p_provider, v_month, coalesce(sum(u.cost), 0) FROM budget_usage u
         WHERE u.provider = p_provider AND u.created_at >= v_month_start
           AND u.created_at < v_month_start + interval '1 month'
        ON CONFLICT DO NOTHING;
        SELECT m.spent INTO v_spent FROM budget_months m
         WHERE m.provider = p_provider AND m.month = v_month FOR UPDATE;
    END IF;
    IF v_spent + p_need > p_limit THEN
        RETURN QUERY SELECT p_lease, 0::numeric, v_spent;
        RETURN;
    END IF;
    v_grant := p_need;
    IF p_want > p_need AND p_limit - v_spent >= 64 * p_unit THEN
        v_grant := least(p_want, p_need + trunc((p_limit - v_spent - p_need) / 16, 6));
    END IF;
    UPDATE budget_months m SET spent = m.spent + v_grant, leased = m.leased + v_grant
     WHERE m.provider = p_provider AND m.month = v_month;
    IF p_lease IS NOT NULL THEN
        UPDATE budget_leases l
           SET granted = l.granted + v_grant,
               expires_at = clock_timestamp() + p_ttl_ms * interval '1 millisecond'
         WHERE l.id = p_lease AND l.provider = p_provider AND l.month = v_month
        RETURNING l.id INTO v_id;
    END IF;
    IF v_id IS NULL THEN
        INSERT INTO budget_leases (provider, month, holder, granted, expires_at)
        VALUES (p_provider, v_month, p_holder, v_grant,
                clock_timestamp() + p_ttl_ms * interval '1 millisecond')
        RETURNING id INTO v_id;
    END IF;
    RETURN QUERY SELECT v_id, v_grant, v_spent + v_grant;
END
$$;

-- Moves p_consumed (the costs of usage rows just written under the lease, in p_provider's
-- p_month) from the lease to budget_usage, gives p_back of what it holds back to the budget, or
-- everything it still holds when p_close (and deletes it), and extends its expiry. A lease that
-- is gone (it expired and was abandoned while its kernel stalled) already counted what it held:
-- p_consumed is added to the month's spend again, which errs on the side of the budget.
CREATE FUNCTION jodo_lease_apply(
    p_lease BIGINT, p_provider TEXT, p_month DATE, p_consumed NUMERIC, p_back NUMERIC,
    p_close BOOLEAN, p_ttl_ms BIGINT)
RETURNS VOID
LANGUAGE plpgsql AS $$
DECLARE
    v_provider TEXT;
    v_month    DATE;
    v_held     NUMERIC;
    v_back     NUMERIC := p_back;
BEGIN
    UPDATE budget_leases l
       SET consumed = l.consumed + p_consumed,
           expires_at = clock_timestamp() + p_ttl_ms * interval '1 millisecond'
     WHERE l.id = p_lease
    RETURNING l.provider, l.month, l.granted - l.consumed INTO v_provider, v_month, v_held;
    IF NOT FOUND THEN
        UPDATE budget_months m SET spent = m.spent + p_consumed
         WHERE m.provider = p_provider AND m.month = p_month;
        RETURN;
    END IF;
    IF p_close THEN
        v_back := v_held;
        DELETE FROM budget_leases WHERE id = p_lease;
    ELSIF v_back <> 0 THEN
        UPDATE budget_leases SET granted = granted - v_back WHERE id = p_lease;
    END IF;
    UPDATE budget_months m
       SET spent = m.spent - v_back, leased = m.leased - p_consumed - v_back
     WHERE m.provider = v_provider AND m.month = v_month;
END
$$;

-- Leases whose kernel stopped renewing them: what each still held becomes an 'abandoned'
-- budget_usage row in its month (counted, as a dead kernel's reservations are), or, when its
-- calls cost more than it held, that overrun is added to the month's spend. Returns how many.
CREATE FUNCTION jodo_reclaim_leases()
RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE
    v_lease RECORD;
    v_count INTEGER := 0;
    v_held  NUMERIC;
BEGIN
    FOR v_lease IN
        DELETE FROM budget_leases WHERE expires_at < clock_timestamp() RETURNING *
    LOOP
        v_held := v_lease.granted - v_lease.consumed;
        IF v_held > 0 THEN
            INSERT INTO budget_usage (provider, model, intent, tokens_in, tokens_out, cost,
                                      requested_by, status, error, created_at, settled_at)
            VALUES (v_lease.provider, '(budget lease)', NULL, 0, 0, v_held, 'kernel', 'abandoned',
                    'budget lease ' || v_lease.id || ' of kernel ' || v_lease.holder
                        || ' expired: its kernel stopped; what it held stays counted',
                    greatest(v_lease.month::timestamp AT TIME ZONE 'UTC',
                             least(clock_timestamp(),
                                   ((v_lease.month + interval '1 month')::timestamp
                                       AT TIME ZONE 'UTC') - interval '1 millisecond')),
                    clock_timestamp());
            UPDATE budget_months m SET leased = m.leased - v_held
             WHERE m.provider = v_lease.provider AND m.month = v_lease.month;
        ELSE
            UPDATE budget_months m SET leased = m.leased - v_held, spent = m.spent - v_held
             WHERE m.provider = v_lease.provider AND m.month = v_lease.month;
        END IF;
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END
$$;

-- jodo_ledger with three more operations:
--   {"op":"lease", ...jodo_lease's parameters}: a row with the op's index, outcome 'granted' or
--     'unaffordable', usage_id = the lease, used = the amount granted, spent_seen = {spend};
--   {"op":"usage", "id", "lease", "provider", "model", ...}: a call admitted under a lease (or for
--     a free model) written once, settled; all of a batch's usage rows go in one INSERT first,
--     each lease's consumption is applied once;
--   {"op":"lease_apply", "lease", "back", "close"}: a give-back (or close) decided by the kernel.
-- Every batch now ends with the index -1 row: each provider's month spend without what leases
-- hold (what budget_usage says), for budget_remaining.
-- A batch that admits or grants commits durably; any other commits with synchronous_commit off:
-- losing its writes in a database crash leaves the amounts in their lease or reservation, which
-- is later abandoned and stays counted.
CREATE OR REPLACE FUNCTION jodo_ledger(p_ops JSONB)
RETURNS TABLE (idx INTEGER, outcome TEXT, chosen INTEGER, usage_id BIGINT, request_id BIGINT,
               retry_after_ms BIGINT, used NUMERIC, spent_seen NUMERIC[],
               month_providers TEXT[], month_spent NUMERIC[])
LANGUAGE plpgsql AS $$
DECLARE
    v_op      JSONB;
    v_index   BIGINT;
    v_now     TIMESTAMPTZ;
    v_durable BOOLEAN := false;
    v_ttl     BIGINT;
    v_lease   RECORD;
BEGIN
    INSERT INTO budget_usage (id, provider, model, intent, tokens_in, tokens_out, cost,
                              requested_by, status, error, created_at, settled_at)
    SELECT u.id, u.provider, u.model, u.intent, u.tokens_in, u.tokens_out, u.cost, u.agent,
           u.status, u.error, u.created, u.now
      FROM jsonb_to_recordset(p_ops) AS u(op TEXT, id BIGINT, provider TEXT, model TEXT,
                                          intent TEXT, tokens_in INTEGER, tokens_out INTEGER,
                                          cost NUMERIC, agent TEXT, status TEXT, error TEXT,
                                          created TIMESTAMPTZ, now TIMESTAMPTZ)
     WHERE u.op = 'usage';
    FOR v_lease IN
        SELECT u.lease, min(u.provider) AS provider,
               min(date_trunc('month', u.created AT TIME ZONE 'UTC')::date) AS month,
               sum(u.cost) AS consumed, sum(coalesce(u.back, 0)) AS back,
               max(u.ttl_ms) AS ttl_ms
          FROM jsonb_to_recordset(p_ops) AS u(op TEXT, lease BIGINT, provider TEXT,
                                              created TIMESTAMPTZ, cost NUMERIC, back NUMERIC,
                                              ttl_ms BIGINT)
         WHERE u.op = 'usage' AND u.lease IS NOT NULL
         GROUP BY u.lease
         ORDER BY 2, 1
    LOOP
        PERFORM jodo_lease_apply(v_lease.lease, v_lease.provider, v_lease.month,
                                 v_lease.consumed, v_lease.back, false, v_lease.ttl_ms);
    END LOOP;

    FOR v_op, v_index IN SELECT e.value, e.n FROM jsonb_array_elements(p_ops) WITH ORDINALITY AS e(value, n) LOOP
        v_now := coalesce((v_op->>'now')::timestamptz, v_now);
        IF v_op->>'op' = 'usage' THEN
            CONTINUE;
        ELSIF v_op->>'op' = 'admit' THEN
            v_durable := true;
            RETURN QUERY
            SELECT (v_index - 1)::int, a.outcome, a.chosen, a.usage_id, a.request_id,
                   a.retry_after_ms, a.used, a.spent_seen, NULL::text[], NULL::numeric[]
              FROM jodo_admit(
                       v_op->>'agent', v_now, v_op->>'intent', (v_op->>'request')::bigint,
                       (v_op->>'tokens_in')::int, (v_op->>'tokens_total')::int,
                       (v_op->>'rpm')::int, (v_op->>'tpm')::bigint, (v_op->>'tpd')::bigint,
                       (v_op->>'cpm')::numeric,
                       ARRAY(SELECT x FROM jsonb_array_elements_text(v_op->'providers')
                                  WITH ORDINALITY AS t(x, n) ORDER BY n),
                       ARRAY(SELECT x FROM jsonb_array_elements_text(v_op->'models')
                                  WITH ORDINALITY AS t(x, n) ORDER BY n),
                       ARRAY(SELECT x::numeric FROM jsonb_array_elements_text(v_op->'costs')
                                  WITH ORDINALITY AS t(x, n) ORDER BY n),
                       ARRAY(SELECT x::numeric FROM jsonb_array_elements_text(v_op->'limits')
                                  WITH ORDINALITY AS t(x, n) ORDER BY n)) a;
        ELSIF v_op->>'op' = 'lease' THEN
            v_durable := true;
            RETURN QUERY
            SELECT (v_index - 1)::int,
                   (CASE WHEN g.granted > 0 THEN 'granted' ELSE 'unaffordable' END)::text,
                   NULL::int, g.lease_id, NULL::bigint, NULL::bigint, g.granted,
                   ARRAY[g.spent], NULL::text[], NULL::numeric[]
              FROM jodo_lease((v_op->>'lease')::bigint, v_op->>'holder', v_op->>'provider',
                              v_now, (v_op->>'need')::numeric, (v_op->>'unit')::numeric,
                              (v_op->>'want')::numeric, (v_op->>'limit')::numeric,
                              (v_op->>'ttl_ms')::bigint) g;
        ELSIF v_op->>'op' = 'lease_apply' THEN
            PERFORM jodo_lease_apply((v_op->>'lease')::bigint, v_op->>'provider', NULL, 0,
                                     coalesce((v_op->>'back')::numeric, 0),
                                     coalesce((v_op->>'close')::boolean, false),
                                     (v_op->>'ttl_ms')::bigint);
        ELSIF v_op->>'op' = 'settle' THEN
            PERFORM jodo_settle_usage(
                (v_op->>'usage')::bigint, v_op->>'status', (v_op->>'tokens_in')::int,
                (v_op->>'tokens_out')::int, (v_op->>'cost')::numeric, v_op->>'error',
                (v_op->>'request')::bigint, (v_op->>'request_tokens')::int, v_now);
        ELSE
            RAISE EXCEPTION 'jodo_ledger: operation % is not admit, settle, lease, lease_apply or usage: %',
                v_index, v_op;
        END IF;
    END LOOP;
    IF NOT v_durable THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    RETURN QUERY
    SELECT -1, NULL::text, NULL::int, NULL::bigint, NULL::bigint, NULL::bigint, NULL::numeric,
           NULL::numeric[], array_agg(m.provider::text), array_agg(m.spent - m.leased)
      FROM budget_months m
     WHERE m.month = date_trunc('month', coalesce(v_now, now()) AT TIME ZONE 'UTC')::date;
END
$$;
