import { loadStationSeries } from '../eval/nowcast-datasets.ts';
const t0 = Date.now();
const r = await loadStationSeries('../shared/data', { progress: (m) => console.error(m) });
for (const s of r.stations) { let n = 0; for (const v of s.series.values) if (!Number.isNaN(v)) n++; console.log(s.series.id, s.series.sampling, new Date(s.series.startMs).toISOString(), s.series.values.length, n, s.background ? s.background.filter((x) => !Number.isNaN(x)).length : 0); }
console.log('ms', Date.now() - t0);
