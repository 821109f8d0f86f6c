-- 004: what a nowcast says beyond the next hour, and where it comes from.
--   hourly_start, hourly_temps_c[i], hourly_sigmas_c[i]: hourly steps valid at hourly_start + i hours
--     (hourly_start is the first full hour at or after run_time), as far as the background reaches:
--     the background plus a decaying correction. NULL when the run made none.
--   newest_obs: the time of the newest reading that informed the cell's value (NULL: none did).
--   method (since 001) is now set per cell: filter, smoother, or a labelled fallback.
ALTER TABLE nowcasts ADD COLUMN hourly_start TIMESTAMPTZ;
ALTER TABLE nowcasts ADD COLUMN hourly_temps_c REAL[];
ALTER TABLE nowcasts ADD COLUMN hourly_sigmas_c REAL[];
ALTER TABLE nowcasts ADD COLUMN newest_obs TIMESTAMPTZ;
