-- The L1 side (kiln-l1): where each queued L1 operation stands in the rollup contract's
-- queue, so one seen twice (a restart, a reorg) is queued once; and every batch
-- transaction the submitter signed, so a restart re-sends the same transaction rather than
-- another one.
ALTER TABLE l1_queue ADD COLUMN l1_index INTEGER;
CREATE UNIQUE INDEX l1_queue_by_l1_index ON l1_queue(l1_index) WHERE l1_index IS NOT NULL;

CREATE TABLE l1_sends (
    tx_hash       TEXT PRIMARY KEY,
    batch         INTEGER NOT NULL,
    nonce         INTEGER NOT NULL,
    raw           TEXT NOT NULL,        -- the signed transaction, 0x-hex
    max_fee       TEXT NOT NULL,        -- wei per gas
    priority_fee  TEXT NOT NULL,
    sent_at       INTEGER NOT NULL      -- unix ms
);
CREATE INDEX l1_sends_by_batch ON l1_sends(batch);

-- Each built batch's exits (JSON: [{"position", "from", "to", "token", "amount"}]), from
-- which the exit proofs that L1 pays withdrawals against are made.
ALTER TABLE batches ADD COLUMN exits TEXT;
