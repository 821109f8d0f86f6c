-- 008: what the smoother did in a run: NULL where none was configured; else the model that served every
-- shard (`bilstm@<version>`), or in how many shards it failed and why (the filter's trajectory is served
-- there). The API reports a run whose smoother failed as degraded.
ALTER TABLE batch_runs ADD COLUMN IF NOT EXISTS smoother TEXT;
