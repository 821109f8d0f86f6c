-- 006: the sharded batch. A window's work is split into tasks (a map and a reduce per shard, an H3
-- parent cell); workers lease tasks, so several processes share a window and a dead worker's task
-- is taken over when its lease runs out. Intermediate results and the state carried between windows
-- (QC flags, sensor records, super-observations, cell filter states) are Arrow IPC blobs.

ALTER TABLE batch_runs DROP CONSTRAINT batch_runs_status_check;
ALTER TABLE batch_runs ADD CONSTRAINT batch_runs_status_check CHECK (status IN ('running', 'done', 'failed', 'revisit'));
-- attempts: runs of this window so far; next_attempt_at: when a failed window may be retried.
ALTER TABLE batch_runs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE batch_runs ADD COLUMN next_attempt_at TIMESTAMPTZ;
-- n_late: readings used that arrived after the window closed (within the grace period);
-- late_after_run: readings for the window that arrived after it ran (what triggers a revisit).
ALTER TABLE batch_runs ADD COLUMN n_late INTEGER;
ALTER TABLE batch_runs ADD COLUMN late_after_run INTEGER;
-- qc: readings per QC reason; shards: tasks per phase; background: which background the run used.
ALTER TABLE batch_runs ADD COLUMN qc JSONB;
ALTER TABLE batch_runs ADD COLUMN shards INTEGER;
ALTER TABLE batch_runs ADD COLUMN background TEXT;

CREATE TABLE batch_tasks (
  window_end   TIMESTAMPTZ NOT NULL,
  phase        TEXT NOT NULL CHECK (phase IN ('map', 'reduce')),
  shard        TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done')),
  worker       TEXT,
  lease_until  TIMESTAMPTZ,
  attempts     INTEGER NOT NULL DEFAULT 0,
  error        TEXT,
  PRIMARY KEY (window_end, phase, shard)
);

CREATE TABLE batch_blobs (
  window_end  TIMESTAMPTZ NOT NULL,
  kind        TEXT NOT NULL,
  shard       TEXT NOT NULL,
  body        BYTEA NOT NULL,
  PRIMARY KEY (window_end, kind, shard)
);

-- The background model's elevation at its points, when the source gives it (for the lapse-rate correction).
ALTER TABLE background ADD COLUMN elevation_m DOUBLE PRECISION;
