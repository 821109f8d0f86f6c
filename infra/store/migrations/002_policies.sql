-- 002: compression and retention. The embedded engine has no background workers, so the
-- application runs these jobs itself on a timer (CALL run_job(id)); a server runs them too.
ALTER TABLE readings SET (timescaledb.compress, timescaledb.compress_segmentby = 'sensor_id', timescaledb.compress_orderby = 'time DESC');
SELECT add_compression_policy('readings', INTERVAL '7 days');
SELECT add_retention_policy('readings', INTERVAL '400 days');

ALTER TABLE nowcasts SET (timescaledb.compress, timescaledb.compress_segmentby = 'cell', timescaledb.compress_orderby = 'run_time DESC');
SELECT add_compression_policy('nowcasts', INTERVAL '2 hours');
-- Nowcasts' retention is the pipeline's (NOWCAST_RETENTION_MS): it drops old chunks after each run.

SELECT add_retention_policy('background', INTERVAL '30 days');
