-- GET /v1/proofs pages a tenant's jobs newest first (seq < before): walked by this index
-- instead of sorting all of the tenant's jobs for every page.
CREATE INDEX jobs_tenant_seq ON jobs(tenant_id, seq);
