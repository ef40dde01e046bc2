-- The ledger in batches. Each kernel funnels its admissions and settlements through one writer
-- that sends everything queued since its last round trip as one jodo_ledger call: one
-- transaction, one commit, one lock of each provider's budget_months row for the whole batch.
-- Before, every call paid two commits, and the row lock was held across each commit's WAL flush,
-- which capped a provider at a few thousand admissions a second whatever the hardware.
--
-- A batch that admits commits durably (synchronous_commit stays on): a reservation the database
-- forgot after a crash could let spend pass the budget. A batch of settlements only commits with
-- synchronous_commit off: losing one leaves its reservation 'reserved' at the worst-case cost,
-- later 'abandoned' and still counted, which errs on the side of the budget.

-- jodo_settle without the month's spend: a batch reports that once, at its end.
CREATE FUNCTION jodo_settle_usage(
    p_usage BIGINT, p_status TEXT, p_tokens_in INTEGER, p_tokens_out INTEGER, p_cost NUMERIC,
    p_error TEXT, p_request BIGINT, p_request_tokens INTEGER, p_now TIMESTAMPTZ)
RETURNS VOID
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
END
$$;

DROP FUNCTION jodo_settle(BIGINT, TEXT, INTEGER, INTEGER, NUMERIC, TEXT, BIGINT, INTEGER, TIMESTAMPTZ);

-- Applies p_ops (a JSON array) in order. {"op":"admit", ...jodo_admit's parameters} returns a
-- row with the op's index and jodo_admit's answer; {"op":"settle", ...} returns nothing. A batch
-- with admissions ends with one more row, index -1, holding every provider's spend in the month
-- of the batch's last operation.
CREATE FUNCTION jodo_ledger(p_ops JSONB)
RETURNS TABLE (idx INTEGER, outcome TEXT, chosen INTEGER, usage_id BIGINT, request_id BIGINT,
               retry_after_ms BIGINT, used NUMERIC, spent_seen NUMERIC[],
               month_providers TEXT[], month_spent NUMERIC[])
LANGUAGE plpgsql AS $$
DECLARE
    v_op     JSONB;
    v_index  BIGINT;
    v_now    TIMESTAMPTZ;
    v_admits BOOLEAN := false;
BEGIN
    FOR v_op, v_index IN SELECT e.value, e.n FROM jsonb_array_elements(p_ops) WITH ORDINALITY AS e(value, n) LOOP
        v_now := (v_op->>'now')::timestamptz;
        IF v_op->>'op' = 'admit' THEN
            v_admits := true;
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
        ELSIF v_op->>'op' = 'settle' THEN
            PERFORM jodo_settle_usage(
                (v_op->>'usage')::bigint, v_op->>'status', (v_op->>'tokens_in')::int,
                (v_op->>'tokens_out')::int, (v_op->>'cost')::numeric, v_op->>'error',
                (v_op->>'request')::bigint, (v_op->>'request_tokens')::int, v_now);
        ELSE
            RAISE EXCEPTION 'jodo_ledger: operation % is neither admit nor settle: %', v_index, v_op;
        END IF;
    END LOOP;
    IF v_admits THEN
        RETURN QUERY
        SELECT -1, NULL::text, NULL::int, NULL::bigint, NULL::bigint, NULL::bigint, NULL::numeric,
               NULL::numeric[], array_agg(m.provider::text), array_agg(m.spent)
          FROM budget_months m
         WHERE m.month = date_trunc('month', v_now AT TIME ZONE 'UTC')::date;
    ELSE
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
END
$$;
