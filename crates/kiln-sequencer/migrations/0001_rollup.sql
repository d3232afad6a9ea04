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
    key_id          TEXT,                   -- the proving key (circuit_keys.id)
    job_id          TEXT,
    proof           TEXT,
    public_signals  TEXT,
    error           TEXT
);

CREATE INDEX batches_by_root ON batches(new_root);

-- The batch circuit's proving keys, one per batch size (a development key made by kiln, or
-- the .zkey of a ceremony the operator ran on the exported .r1cs).
CREATE TABLE circuit_keys (
    id          TEXT PRIMARY KEY,
    batch_size  INTEGER NOT NULL,
    zkey_path   TEXT NOT NULL,
    vk          TEXT NOT NULL
);

-- Operations from L1 waiting for a batch (the submitter of the L1 side fills it).
CREATE TABLE l1_queue (
    id          INTEGER PRIMARY KEY,
    body        TEXT NOT NULL,
    included_in INTEGER
);
