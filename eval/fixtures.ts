/**
 * Tiny data sets in the real formats, written to a temp folder by the tests (gzip CSV + stations.csv).
 *
 * The `baseline` fixture (hand-checkable; see baseline.test.ts for the expected figures):
 *   background  2 ERA5 points, the same value everywhere: 10, 11, 12, 13 °C at T0 .. T0 + 3 h
 *   crowd       A (52.5 N 13.4 E): 11 at T0, 13 at T0 + 1 h, 12 at T0 + 2 h (innovations +1, +2, 0)
 *               B (52.51 N 13.41 E): 10.5 at T0 + 30 min (-> window of T0 + 1 h; innovation 0),
 *               an empty ta at T0, a reading of an unknown station and a malformed row
 *   DWD truth   station 433 at 52.45 N 13.30 E (--station-lat/--station-lon): 9 at T0 - 1 h (no crowd
 *               then), 10.5, 12.5, 12.0, 13.5 at T0 .. T0 + 3 h
 *   UCO truth   u1 = the DWD station and values; u2 in A's cell: 11, 13, 12, 13
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir as tempFolder } from '../infra/testing/temp-dir.ts';

export const T0 = Date.UTC(2017, 0, 10, 0);
const H = 3_600_000;
export const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** A new temp folder, removed when the test process exits. */
export function tempDir(prefix = 'eval-test-'): string {
  return tempFolder(prefix);
}

export function writeGz(path: string, lines: readonly string[]): void {
  writeFileSync(path, gzipSync(Buffer.from(`${lines.join('\n')}\n`)));
}

export function writeText(path: string, lines: readonly string[]): void {
  writeFileSync(path, `${lines.join('\n')}\n`);
}

export const TRUTH_POSITION = { lat: 52.45, lon: 13.3 };

/** Writes crowd/, dwd/, era5/, uco/ and an unrelated pws/ folder under a new temp folder; returns it. */
export function writeBaselineFixture(root = tempDir()): string {
  const crowd = join(root, 'crowd'), dwd = join(root, 'dwd'), era5 = join(root, 'era5'), uco = join(root, 'uco'), pws = join(root, 'pws');
  for (const d of [crowd, dwd, era5, uco, pws]) mkdirSync(d, { recursive: true });

  writeText(join(crowd, 'stations.csv'), ['p_id,lon,lat,z', '1,13.4,52.5,34', '2,13.41,52.51,', '3,,52.6,30']);
  writeGz(join(crowd, 'obs_a.csv.gz'), [
    'p_id,time,ta',
    `1,${iso(T0)},11`,
    `2,${iso(T0)},`, // missing value
    `99,${iso(T0)},15`, // unknown station
    `2,${iso(T0 + H / 2)},10.5`, // belongs to the window of T0 + 1 h
    `1,${iso(T0 + H)},13`,
  ]);
  writeGz(join(crowd, 'obs_b.csv.gz'), ['p_id,time,ta', `1,${iso(T0 + 2 * H)},12`, '1,broken']);

  const era5Rows = ['time,lat,lon,t2m_c,u10_ms,v10_ms,u100_ms,v100_ms,sp_hpa,ssrd_jm2,fdir_jm2,fsr_m'];
  for (let k = 0; k < 4; k++) {
    for (const [lat, lon] of [['52.60', '13.10'], ['52.35', '13.60']] as const) era5Rows.push(`${iso(T0 + k * H)},${lat},${lon},${10 + k},1,1,2,2,1010,0,0,0.5`);
  }
  writeGz(join(era5, 'era5.csv.gz'), era5Rows);

  const truth: [number, number][] = [[T0 - H, 9], [T0, 10.5], [T0 + H, 12.5], [T0 + 2 * H, 12.0], [T0 + 3 * H, 13.5]];
  writeGz(join(dwd, 'obs_dwd.csv.gz'), ['time,station_id,qn_9,ta,rh', ...truth.map(([t, v]) => `${iso(t)},433,3,${v},80`), `${iso(T0 + 4 * H)},433,3,,80`]);

  writeText(join(uco, 'stations.csv'), ['station,lat,lon,network_inferred,note', `u1,${TRUTH_POSITION.lat},${TRUTH_POSITION.lon},DWD,"a note, with a comma"`, 'u2,52.5,13.4,UCO,in the cell of crowd station 1']);
  const u2: [number, number][] = [[T0, 11], [T0 + H, 13], [T0 + 2 * H, 12], [T0 + 3 * H, 13]];
  writeGz(join(uco, 'obs_uco.csv.gz'), ['time,station,ta', ...truth.map(([t, v]) => `${iso(t)},u1,${v}`), ...u2.map(([t, v]) => `${iso(t)},u2,${v}`)]);

  writeGz(join(pws, 'obs_2017.csv.gz'), ['time,delay_min,ta,rh', `${iso(T0)},3,4.5,77`]);
  return root;
}
