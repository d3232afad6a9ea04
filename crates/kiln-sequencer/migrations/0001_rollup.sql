-- The rollup's durable state. Everything the sequencer holds in memory follows from the
-- genesis and `log` replayed in `seq` order.

-- Settings fixed at the first start (the genesis, its chain id).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Every confirmed transaction, L1 operation and batch close, in order.
--   kind 1: a transaction (body: its JSON as POST /v1/rollup/transactions takes it)
--   kind 2: an L1 operation (body: its JSON)
--   kind 3: the close of batch `batch` (body: {})
CREATE TABLE log (
    seq   INTEGER PRIMARY KEY,
    batch INTEGER NOT NULL,
    kind  INTEGER NOT NULL,
    hash  TEXT,
    body  TEXT NOT NULL
);
CREATE UNIQUE INDEX log_by_hash ON log(hash) WHERE hash IS NOT NULL;

-- Closed batches and what became of them.
CREATE TABLE batches (
    number          INTEGER PRIMARY KEY,
    status          TEXT NOT NULL,          -- closed, proving, proven, failed, finalized
    tx_count        INTEGER NOT NULL,
    l1_count        INTEGER NOT NULL,
    closed_at       INTEGER NOT NULL,
    old_root        TEXT,
    new_root        TEXT,
    exit_root       TEXT,
    public_input    TEXT,
    data            BLOB,
    job_id          TEXT,
    proof           TEXT,
    public_signals  TEXT,
    error           TEXT
);

-- Operations from L1 waiting for a batch (the submitter of the L1 side fills it).
CREATE TABLE l1_queue (
    id          INTEGER PRIMARY KEY,
    body        TEXT NOT NULL,
    included_in INTEGER
);
