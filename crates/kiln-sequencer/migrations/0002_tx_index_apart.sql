-- Transactions are looked up by hash in their own database (txindex.db, see txindex.rs),
-- written off the confirmation path: an index on random hashes here cost every group
-- commit one page write per transaction.
DROP INDEX IF EXISTS log_by_hash;
