/** Background forecasts: the coarse model's values on its own grid points. */
import type { Queryable } from './store.ts';

export interface BackgroundRow {
  source: string;
  pointId: string;
  lat: number;
  lon: number;
  validTimeMs: number;
  issuedAtMs: number;
  tempC: number;
  /** The model's elevation at the point [m], when the source gives it. */
  elevationM?: number | null;
}

/** Upserts values; a row is replaced only by a newer (or the same) issue. Returns rows written. */
export async function upsertBackground(q: Queryable, rows: readonly BackgroundRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  // De-duplicate within the batch on the key, keeping the newest issue.
  const byKey = new Map<string, BackgroundRow>();
  for (const r of rows) {
    const k = `${r.source}\u0000${r.pointId}\u0000${r.validTimeMs}`;
    const prev = byKey.get(k);
    if (!prev || r.issuedAtMs >= prev.issuedAtMs) byKey.set(k, r);
  }
  const u = [...byKey.values()];
  const res = await q.query(
    `INSERT INTO background (source, point_id, lat, lon, valid_time, issued_at, temp_c, elevation_m)
     SELECT * FROM unnest($1::text[], $2::text[], $3::float8[], $4::float8[], $5::timestamptz[], $6::timestamptz[], $7::float8[], $8::float8[])
     ON CONFLICT (source, point_id, valid_time) DO UPDATE
       SET lat = EXCLUDED.lat, lon = EXCLUDED.lon, issued_at = EXCLUDED.issued_at, temp_c = EXCLUDED.temp_c, elevation_m = EXCLUDED.elevation_m
       WHERE EXCLUDED.issued_at >= background.issued_at`,
    [u.map((r) => r.source), u.map((r) => r.pointId), u.map((r) => r.lat), u.map((r) => r.lon), u.map((r) => new Date(r.validTimeMs)), u.map((r) => new Date(r.issuedAtMs)), u.map((r) => r.tempC), u.map((r) => r.elevationM ?? null)],
  );
  return res.rowCount;
}

/** All background values valid in [fromMs, toMs], every source. */
export async function backgroundBetween(q: Queryable, fromMs: number, toMs: number): Promise<BackgroundRow[]> {
  const res = await q.query<{ source: string; point_id: string; lat: number; lon: number; valid_time: Date; issued_at: Date; temp_c: number; elevation_m: number | null }>(
    `SELECT source, point_id, lat, lon, valid_time, issued_at, temp_c, elevation_m FROM background
     WHERE valid_time BETWEEN $1 AND $2 ORDER BY source, point_id, valid_time`,
    [new Date(fromMs), new Date(toMs)],
  );
  return res.rows.map((r) => ({ source: r.source, pointId: r.point_id, lat: r.lat, lon: r.lon, validTimeMs: r.valid_time.getTime(), issuedAtMs: r.issued_at.getTime(), tempC: r.temp_c, elevationM: r.elevation_m }));
}
