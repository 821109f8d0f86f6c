/**
 * `format=csv` of GET /v1/forecast, laid out as Open-Meteo writes it, so a spreadsheet or a script made
 * for Open-Meteo's CSV reads ours: a location block (`latitude,longitude,elevation,utc_offset_seconds,
 * timezone,timezone_abbreviation`; with several points a `location_id` column first, ids from 0), left
 * out with `location_information=omit`; then one block per section (current, minutely_15, minutely_5,
 * hourly, daily), each after a blank line, with a `time` column (and `location_id` first for several
 * points) and a `name (unit)` column per variable. Missing values are `NaN`, as Open-Meteo writes them.
 * Values carry the JSON answer's two decimals. Pure.
 */
import type { ForecastAnswer, PointForecast, SectionValues } from './forecast.ts';
import { isoMinute } from './timezone.ts';

type Block = { header: string[]; rows: (p: PointForecast) => string[][] };

export function forecastCsv(a: ForecastAnswer, o: { locationHeader: boolean; unitOf: (name: string) => string }): string {
  const multi = a.points.length > 1;
  const out: string[] = [];
  const num = (v: number | null) => (v === null || !Number.isFinite(v) ? 'NaN' : v.toFixed(2));
  const time = (t: number, day: boolean) => (a.unixtime ? String(Math.floor(t / 1000)) : day ? isoMinute(t, a.zone.offsetS).slice(0, 10) : isoMinute(t, a.zone.offsetS));
  const column = (name: string) => (o.unitOf(name) ? `${name} (${o.unitOf(name)})` : name);
  if (o.locationHeader) {
    const loc = (p: PointForecast) => [String(p.latitude), String(p.longitude), p.elevation === null ? 'NaN' : String(p.elevation), String(a.zone.offsetS), a.zone.name, a.zone.abbreviation];
    out.push(`${multi ? 'location_id,' : ''}latitude,longitude,elevation,utc_offset_seconds,timezone,timezone_abbreviation`);
    a.points.forEach((p, id) => out.push((multi ? [String(id), ...loc(p)] : loc(p)).join(',')));
  }
  const section = (pick: (p: PointForecast) => SectionValues | undefined, day: boolean): Block | null => {
    const first = pick(a.points[0]!);
    if (!first) return null;
    return {
      header: first.variables.map((v) => column(v.name)),
      rows: (p) => {
        const s = pick(p)!;
        return s.timesMs.map((t, k) => [time(t, day), ...s.variables.map((v) => num(v.values[k] ?? null))]);
      },
    };
  };
  const current: Block | null = a.points[0]!.current
    ? { header: a.points[0]!.current.variables.map((v) => column(v.name)), rows: (p) => [[time(p.current!.timeMs, false), ...p.current!.variables.map((v) => num(v.value))]] }
    : null;
  const blocks = [current, section((p) => p.minutely_15, false), section((p) => p.minutely_5, false), section((p) => p.hourly, false), section((p) => p.daily, true)];
  for (const b of blocks) {
    if (!b) continue;
    if (out.length > 0) out.push('');
    out.push([...(multi ? ['location_id'] : []), 'time', ...b.header].join(','));
    a.points.forEach((p, id) => {
      for (const row of b.rows(p)) out.push((multi ? [String(id), ...row] : row).join(','));
    });
  }
  return `${out.join('\n')}\n`;
}

/** `nowcast-52.52N13.41E.csv`: the first point, as Open-Meteo names its files. */
export function csvFilename(a: ForecastAnswer): string {
  const p = a.points[0]!;
  const c = (x: number, pos: string, neg: string) => `${Math.abs(x).toFixed(2)}${x < 0 ? neg : pos}`;
  return `nowcast-${c(p.latitude, 'N', 'S')}${c(p.longitude, 'E', 'W')}.csv`;
}
