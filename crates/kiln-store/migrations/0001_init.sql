-- kiln serve: the control plane's schema (SQLite). Timestamps are Unix milliseconds.

-- Key/value settings of this data dir (e.g. the hash of a generated admin key).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE tenants (
    id                  TEXT PRIMARY KEY NOT NULL,
    name                TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    -- Secret for signing this tenant's webhooks (HMAC-SHA256); shown once at creation.
    webhook_secret      TEXT NOT NULL,
    -- Quotas; NULL means the server's default.
    max_queued_jobs     INTEGER,
    max_concurrent_jobs INTEGER,
    max_stored_bytes    INTEGER
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY NOT NULL,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    -- sha256 hex of the key; the key itself is never stored.
    key_hash   TEXT NOT NULL UNIQUE,
    -- The first characters of the key, to tell keys apart in listings.
    prefix     TEXT NOT NULL,
    label      TEXT,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX api_keys_tenant ON api_keys(tenant_id);

-- One row per (tenant, circuit); the zkey file itself is stored once per hash.
CREATE TABLE circuits (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    id            TEXT NOT NULL,
    curve         TEXT NOT NULL,
    n_public      INTEGER NOT NULL,
    n_vars        INTEGER NOT NULL,
    domain_size   INTEGER NOT NULL,
    n_constraints INTEGER NOT NULL,
    size_bytes    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX circuits_id ON circuits(id);

CREATE TABLE jobs (
    -- Insertion order: the queue's "age".
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    circuit_id      TEXT NOT NULL,
    batch_id        TEXT,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    priority        INTEGER NOT NULL,
    webhook_url     TEXT,
    witness_path    TEXT NOT NULL,
    n_constraints   INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    started_at      INTEGER,
    finished_at     INTEGER,
    proof           TEXT,
    public_signals  TEXT,
    calldata        TEXT,
    timings         TEXT,
    devices         TEXT,
    device_ms       INTEGER,
    error_code      TEXT,
    error_message   TEXT
);
CREATE INDEX jobs_tenant_status ON jobs(tenant_id, status);
CREATE INDEX jobs_status ON jobs(status);
CREATE INDEX jobs_circuit ON jobs(circuit_id, status);

-- Idempotency keys: the same key (per tenant) returns the same jobs.
CREATE TABLE idempotency (
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    key            TEXT NOT NULL,
    request_digest TEXT NOT NULL,
    -- The JSON body that answered the first request.
    response       TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

-- Webhook deliveries, retried with backoff until delivered or out of attempts.
CREATE TABLE webhooks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id          TEXT NOT NULL,
    tenant_id       TEXT NOT NULL,
    url             TEXT NOT NULL,
    body            TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    gave_up_at      INTEGER,
    last_error      TEXT
);
CREATE INDEX webhooks_due ON webhooks(delivered_at, gave_up_at, next_attempt_at);
