-- Idempotency records expire (kiln serve --idempotency-ttl-hours): purged by age.
CREATE INDEX idempotency_created ON idempotency(created_at);
