-- The memories change feed. Every insert and delete takes the next value of memories_seq while
-- holding one transaction-level advisory lock (jodo.memories.feed), so seq order is commit
-- order: a kernel that has applied every change up to N has seen everything up to N, and
-- catches up from N after a crash or from another kernel's writes.

CREATE SEQUENCE memories_seq;

ALTER TABLE memories ADD COLUMN seq BIGINT;
UPDATE memories SET seq = nextval('memories_seq');
ALTER TABLE memories ALTER COLUMN seq SET NOT NULL;
-- The kernel always assigns seq under the feed lock; the default only covers hand-written rows.
ALTER TABLE memories ALTER COLUMN seq SET DEFAULT nextval('memories_seq');
CREATE UNIQUE INDEX memories_by_seq ON memories (seq);

ALTER TABLE memories ADD COLUMN embedding_dims INTEGER;

-- Forget means forget: a deleted memory keeps only its id, namespace and seq (a tombstone the
-- indexes need); content, tags, source and embedding are wiped.
ALTER TABLE memories ALTER COLUMN content DROP NOT NULL;
