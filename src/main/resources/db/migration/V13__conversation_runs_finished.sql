-- A run's API view shows when its conversation's previous finished run finished (a run that never
-- waited got its turn no earlier). Without this index that lookup scanned every run ever.
CREATE INDEX conversation_runs_finished ON conversation_runs (conversation_key, run_order)
    WHERE finished_at IS NOT NULL;
