-- Session compaction: when a conversation's session grows past runs.compact_after_tokens, a run
-- summarizes its older part. The summary is a row of its own (role 'summary', seq -1 of the run
-- that wrote it); the rows it replaces are marked compacted by that run, so a run replayed after
-- a crash still sees the session exactly as it was when the run first took it.
ALTER TABLE session_messages ADD COLUMN compacted_by VARCHAR(64);
