-- 001: the core schema. Times are TIMESTAMPTZ (UTC); temperatures in degrees Celsius.
CREATE EXTENSION IF NOT EXISTS timescaledb;

-- Sensor registry: official stations and amateur sensors. key_hash holds a hash of the
-- sensor's write key (never the key itself); NULL for sensors that only reach us through the bus.
CREATE TABLE sensors (
  sensor_id    TEXT PRIMARY KEY,
  kind         TEXT NOT NULL CHECK (kind IN ('official', 'amateur')),
  lat          DOUBLE PRECISION NOT NULL CHECK (lat BETWEEN -90 AND 90),
  lon          DOUBLE PRECISION NOT NULL CHECK (lon BETWEEN -180 AND 180),
  elevation_m  DOUBLE PRECISION,
  key_hash     TEXT,
  first_seen   TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_seen    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Readings: idempotent on (sensor_id, time). cell is the H3 cell (pipeline resolution) of lat/lon.
CREATE TABLE readings (
  sensor_id     TEXT NOT NULL,
  time          TIMESTAMPTZ NOT NULL,
  kind          TEXT NOT NULL CHECK (kind IN ('official', 'amateur')),
  lat           DOUBLE PRECISION NOT NULL,
  lon           DOUBLE PRECISION NOT NULL,
  elevation_m   DOUBLE PRECISION,
  cell          TEXT NOT NULL,
  temp_c        DOUBLE PRECISION NOT NULL,
  humidity_pct  DOUBLE PRECISION,
  pressure_hpa  DOUBLE PRECISION,
  received_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (sensor_id, time)
);
SELECT create_hypertable('readings', by_range('time', INTERVAL '1 day'));
CREATE INDEX readings_cell_time ON readings (cell, time DESC);

-- Background forecasts (a coarse numerical model) on their own grid points. A newer issue of the
-- same source, point and validity time replaces the older one.
CREATE TABLE background (
  source      TEXT NOT NULL,
  point_id    TEXT NOT NULL,
  lat         DOUBLE PRECISION NOT NULL,
  lon         DOUBLE PRECISION NOT NULL,
  valid_time  TIMESTAMPTZ NOT NULL,
  issued_at   TIMESTAMPTZ NOT NULL,
  temp_c      DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (source, point_id, valid_time)
);
SELECT create_hypertable('background', by_range('valid_time', INTERVAL '7 days'));

-- Nowcasts: one row per cell and batch run. temps_c[i] / sigmas_c[i] are valid at
-- run_time + i * step_min minutes (i = 0 is "now"); arrays keep a 13-step hour in one row.
CREATE TABLE nowcasts (
  cell        TEXT NOT NULL,
  run_time    TIMESTAMPTZ NOT NULL,
  step_min    INTEGER NOT NULL,
  temps_c     REAL[] NOT NULL,
  sigmas_c    REAL[] NOT NULL,
  n_obs       INTEGER NOT NULL,
  method      TEXT NOT NULL,
  PRIMARY KEY (cell, run_time)
);
-- Short chunks: the pipeline drops whole chunks older than its retention after every run.
SELECT create_hypertable('nowcasts', by_range('run_time', INTERVAL '30 minutes'));

-- Batch run ledger: one row per window; a rerun of a window replaces its nowcasts and its row.
CREATE TABLE batch_runs (
  window_end    TIMESTAMPTZ PRIMARY KEY,
  window_start  TIMESTAMPTZ NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  method        TEXT NOT NULL,
  started_at    TIMESTAMPTZ NOT NULL,
  finished_at   TIMESTAMPTZ,
  n_readings    INTEGER,
  n_sensors     INTEGER,
  n_cells       INTEGER,
  error         TEXT
);

-- Ingest's dead letters: records that could not be accepted, with the cause.
CREATE TABLE dead_letters (
  id           BIGSERIAL PRIMARY KEY,
  received_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  source       TEXT NOT NULL,
  reason       TEXT NOT NULL,
  payload      TEXT NOT NULL
);
