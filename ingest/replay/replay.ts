/**
 * Replay of real data sets through the live path: the data sets in a folder are found by their
 * columns (eval/datasets.ts: Netatmo crowd + stations.csv, DWD hourly, the UCO network, a pywws
 * station such as Falkensee, ERA5 as background), their stations are registered (kind, name, external
 * id, position) in the store, and every value becomes the canonical reading the HTTP submission path
 * produces (ingest/submission.ts: checked, de-duplicated, keyed by H3 parent cell) on readings.v1,
 * or a background value on background.v1, in time order, paced by `speed` or as fast as the bus takes.
 *
 * Times are the data's own (no shift), so the backlog horizon of live submissions does not apply;
 * every other check does (a value that fails is counted in `refused`, not sent).
 */
import { basename } from 'node:path';
import type { Bus, OutgoingMessage } from '../../infra/bus/index.ts';
import { ensureStations, type Queryable } from '../../infra/store/index.ts';
import type { LatLon } from '../../infra/geo/index.ts';
import { detectDatasets, loadCrowdByHour, loadCrowdStations, loadDwdTruth, loadEra5Background, loadPywwsSeries, loadUcoTruth, HOUR_MS, type Dataset, type TimeRange } from '../../eval/datasets.ts';
import { encodeBackground } from '../reading.ts';
import { canonicalReading, checkValue, chunkByBytes, dropDuplicates, readingMessages, type StationPosition } from '../submission.ts';
import { partitionKey, type Topics } from '../topics.ts';

export interface ReplayStation extends StationPosition {
  name: string;
  externalId: string;
}

export interface ReplayProgress {
  sent: number;
  total: number;
  /** Data time reached [epoch ms]. */
  dataTimeMs: number;
}

export interface ReplayOptions {
  dataDir: string;
  bus: Pick<Bus, 'publish'>;
  topics: Topics;
  /** Where stations are registered; null: not registered (their readings still carry position and kind). */
  registry: Queryable | null;
  partitionResolution: number;
  range?: TimeRange;
  /** Data milliseconds per wall millisecond (3600: an hour of data per second); undefined: no pacing. */
  speed?: number;
  /** Position of a DWD-format station (its files carry none). */
  dwdPosition: LatLon;
  /** Position of a pywws-format station (its files carry none). */
  pywwsPosition: LatLon;
  /** Messages per publish call. */
  publishBatch?: number;
  progress?: (p: ReplayProgress) => void;
  note?: (message: string) => void;
  /** Clock and sleep of the pacing (tests). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface ReplayResult {
  datasets: { kind: string; dir: string }[];
  stations: number;
  stationsNew: number;
  readings: number;
  background: number;
  duplicates: number;
  refused: number;
  firstMs: number | null;
  lastMs: number | null;
}

/** The replay's events in columns: readings (station >= 0) and background values (station = -1 - point). */
interface Events {
  timeMs: number[];
  station: number[];
  tempC: number[];
  humidityPct: (number | null)[];
  pressureHpa: (number | null)[];
}

const BACKGROUND_SOURCE = 'era5';

function finiteOrNull(x: number | undefined): number | null {
  return x !== undefined && Number.isFinite(x) ? x : null;
}

export async function replay(o: ReplayOptions): Promise<ReplayResult> {
  const range = o.range ?? { fromMs: -Infinity, toMs: Infinity };
  const note = o.note ?? (() => {});
  const { datasets, unrecognised } = detectDatasets(o.dataDir);
  for (const u of unrecognised) note(`ignored ${u.dir}: ${u.reason}`);
  if (datasets.length === 0) throw new Error(`no data set recognised in ${o.dataDir}`);

  const stations: ReplayStation[] = [];
  const points: { pointId: string; lat: number; lon: number }[] = [];
  const ev: Events = { timeMs: [], station: [], tempC: [], humidityPct: [], pressureHpa: [] };
  const push = (t: number, s: number, temp: number, rh: number | null = null, p: number | null = null) => {
    if (t < range.fromMs || t >= range.toMs) return;
    ev.timeMs.push(t);
    ev.station.push(s);
    ev.tempC.push(temp);
    ev.humidityPct.push(rh);
    ev.pressureHpa.push(p);
  };
  const addStation = (s: ReplayStation) => stations.push(s) - 1;

  for (const ds of datasets) {
    note(`found ${ds.kind}: ${ds.dir}`);
    await load(ds);
  }

  async function load(ds: Dataset): Promise<void> {
    switch (ds.kind) {
      case 'crowd-netatmo': {
        const table = await loadCrowdStations(ds.stationsFile!);
        const keepHour = (h: number) => h >= range.fromMs && h - HOUR_MS < range.toMs; // hour h holds (h - 1 h, h]
        const { byHour } = await loadCrowdByHour(ds, table, { keepHour, progress: note });
        const index = new Map<number, number>();
        for (const hr of byHour.values()) {
          for (let i = 0; i < hr.station.length; i++) {
            const k = hr.station[i]!;
            let s = index.get(k);
            if (s === undefined) {
              const id = table.ids[k]!;
              s = addStation({ stationId: `netatmo-${id}`, kind: 'amateur', lat: table.lat[k]!, lon: table.lon[k]!, elevationM: null, name: `Netatmo ${id}`, externalId: id });
              index.set(k, s);
            }
            push(hr.timeMs[i]!, s, hr.tempC[i]!);
          }
        }
        return;
      }
      case 'official-dwd': {
        const { station } = await loadDwdTruth(ds, { lat: o.dwdPosition.lat, lon: o.dwdPosition.lon, range });
        const s = addStation({ stationId: `dwd-${Number(station.id) || station.id}`, kind: 'official', lat: station.lat, lon: station.lon, elevationM: null, name: `DWD ${station.id}`, externalId: station.id });
        for (const [t, v] of station.series) push(t, s, v);
        return;
      }
      case 'official-uco': {
        const { stations: list } = await loadUcoTruth(ds, { range });
        for (const st of list) {
          const s = addStation({ stationId: `uco-${st.id}`, kind: 'official', lat: st.lat, lon: st.lon, elevationM: null, name: st.id, externalId: st.id });
          for (const [t, v] of st.series) push(t, s, v);
        }
        return;
      }
      case 'amateur-pywws': {
        const id = basename(ds.dir).replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 50);
        const { series } = await loadPywwsSeries(ds, { id, lat: o.pywwsPosition.lat, lon: o.pywwsPosition.lon, range });
        const s = addStation({ stationId: `pws-${id}`, kind: 'amateur', lat: series.lat, lon: series.lon, elevationM: null, name: id, externalId: id });
        for (let i = 0; i < series.timeMs.length; i++) push(series.timeMs[i]!, s, series.tempC[i]!, finiteOrNull(series.humidityPct[i]), finiteOrNull(series.pressureHpa[i]));
        return;
      }
      case 'background-era5': {
        const { samples } = await loadEra5Background(ds, { range });
        const byId = new Map<string, number>();
        for (const x of samples) {
          let p = byId.get(x.pointId);
          if (p === undefined) {
            p = points.push({ pointId: x.pointId, lat: x.lat, lon: x.lon }) - 1;
            byId.set(x.pointId, p);
          }
          push(x.validTimeMs, -1 - p, x.tempC);
        }
        return;
      }
    }
  }

  // Register the stations that have something to replay.
  const used = new Set(ev.station.filter((s) => s >= 0));
  const toRegister = stations.filter((_, i) => used.has(i));
  let stationsNew = 0;
  if (o.registry) {
    const nowMs = (o.now ?? Date.now)();
    for (let i = 0; i < toRegister.length; i += 5000) {
      stationsNew += await ensureStations(o.registry, toRegister.slice(i, i + 5000).map((s) => ({ ...s, ownerPartner: null, nowMs })));
    }
    note(`registered ${toRegister.length} stations (${stationsNew} new)`);
  }

  // Time order.
  const n = ev.timeMs.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => ev.timeMs[a]! - ev.timeMs[b]!);

  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const batchMax = o.publishBatch ?? 5000;
  const result: ReplayResult = {
    datasets: datasets.map((d) => ({ kind: d.kind, dir: d.dir })), stations: toRegister.length, stationsNew,
    readings: 0, background: 0, duplicates: 0, refused: 0, firstMs: n > 0 ? ev.timeMs[order[0]!]! : null, lastMs: n > 0 ? ev.timeMs[order[n - 1]!]! : null,
  };
  if (n === 0) return result;

  const startWall = now();
  const startData = ev.timeMs[order[0]!]!;
  let readingBatch: ReturnType<typeof canonicalReading>[] = [];
  let backgroundBatch: OutgoingMessage[] = [];
  const flush = async () => {
    if (readingBatch.length > 0) {
      const { unique, duplicates } = dropDuplicates(readingBatch);
      for (const part of chunkByBytes(readingMessages(unique, o.partitionResolution))) await o.bus.publish(o.topics.readings, part);
      result.readings += unique.length;
      result.duplicates += duplicates;
      readingBatch = [];
    }
    if (backgroundBatch.length > 0) {
      for (const part of chunkByBytes(backgroundBatch)) await o.bus.publish(o.topics.background, part);
      result.background += backgroundBatch.length;
      backgroundBatch = [];
    }
  };
  const nowMs = Date.now(); // the present, for the check against future times (not the pacing clock)
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const t = ev.timeMs[i]!;
    if (o.speed !== undefined) {
      const dueWall = startWall + (t - startData) / o.speed;
      const wait = dueWall - now();
      if (wait > 0) {
        await flush();
        o.progress?.({ sent: k, total: n, dataTimeMs: t });
        await sleep(wait);
      }
    }
    const s = ev.station[i]!;
    if (s >= 0) {
      const value = { timeMs: t, tempC: ev.tempC[i]!, humidityPct: ev.humidityPct[i]!, pressureHpa: ev.pressureHpa[i]! };
      if (checkValue(value, { nowMs, backlogMs: Infinity }) !== null) {
        result.refused++;
        continue;
      }
      readingBatch.push(canonicalReading(stations[s]!, value));
    } else {
      const p = points[-1 - s]!;
      backgroundBatch.push({ key: partitionKey(p, o.partitionResolution), value: encodeBackground({ source: BACKGROUND_SOURCE, pointId: p.pointId, lat: p.lat, lon: p.lon, validTimeMs: t, issuedAtMs: t, tempC: ev.tempC[i]! }) });
    }
    if (readingBatch.length >= batchMax || backgroundBatch.length >= batchMax) {
      await flush();
      o.progress?.({ sent: k + 1, total: n, dataTimeMs: t });
    }
  }
  await flush();
  o.progress?.({ sent: n, total: n, dataTimeMs: result.lastMs! });
  return result;
}
