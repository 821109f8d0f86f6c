-- 003: hourly statistics per cell as a continuous aggregate (the history the map and the models
-- read without scanning raw readings), refreshed by its policy job.
CREATE MATERIALIZED VIEW readings_hourly WITH (timescaledb.continuous) AS
  SELECT cell, time_bucket(INTERVAL '1 hour', time) AS hour, count(*)::int AS n_readings,
         count(DISTINCT sensor_id)::int AS n_sensors, avg(temp_c) AS mean_temp_c,
         min(temp_c) AS min_temp_c, max(temp_c) AS max_temp_c
  FROM readings GROUP BY cell, hour
  WITH NO DATA;
SELECT add_continuous_aggregate_policy('readings_hourly', start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour');
