/**
 * The station registry (migration 005): stations that submit readings themselves, and the partners
 * whose tokens write for the stations they own. Keys and tokens arrive here already hashed (the
 * hashing lives with the key format, in ingest/station-key.ts); nothing here ever returns a hash
 * except `stationCredentials` / `partnerCredentials`, which the authentication step needs.
 */
import type { Queryable } from './store.ts';
import type { SensorKind } from './readings.ts';

export interface StationRecord {
  stationId: string;
  kind: SensorKind;
  name: string | null;
  externalId: string | null;
  /** Latitude [degrees]. */
  lat: number;
  /** Longitude [degrees]. */
  lon: number;
  /** Elevation above sea level [m]. */
  elevationM: number | null;
  ownerPartner: string | null;
  /** When the station was registered [epoch ms]; null for sensors only ever seen on the bus. */
  registeredAtMs: number | null;
  /** When the station was disabled [epoch ms]; null while it may submit. */
  disabledAtMs: number | null;
}

/** A station with what authenticating it needs: its key's hash and its bound Ecowitt PASSKEY. */
export interface StationCredentials extends StationRecord {
  keyHash: string | null;
  ecowittPasskey: string | null;
}

export interface NewStation {
  stationId: string;
  kind: SensorKind;
  name: string;
  externalId: string | null;
  lat: number;
  lon: number;
  elevationM: number | null;
  ownerPartner: string | null;
  /** Hash of the station's key (null: the station has no key and cannot submit over HTTP). */
  keyHash: string | null;
  nowMs: number;
}

export class StationExistsError extends Error {
  override readonly name = 'StationExistsError';
  readonly code = 'STATION_EXISTS';
}

const STATION_COLUMNS = `sensor_id, kind, name, external_id, lat, lon, elevation_m, owner_partner, registered_at, disabled_at`;

interface StationDbRow {
  sensor_id: string;
  kind: SensorKind;
  name: string | null;
  external_id: string | null;
  lat: number;
  lon: number;
  elevation_m: number | null;
  owner_partner: string | null;
  registered_at: Date | null;
  disabled_at: Date | null;
}

function toRecord(r: StationDbRow): StationRecord {
  return {
    stationId: r.sensor_id,
    kind: r.kind,
    name: r.name,
    externalId: r.external_id,
    lat: r.lat,
    lon: r.lon,
    elevationM: r.elevation_m,
    ownerPartner: r.owner_partner,
    registeredAtMs: r.registered_at ? r.registered_at.getTime() : null,
    disabledAtMs: r.disabled_at ? r.disabled_at.getTime() : null,
  };
}

/**
 * Registers a station. A sensor id already seen on the bus (never registered) is taken over with the
 * registry's position and key; an id already registered is a StationExistsError.
 */
export async function insertStation(q: Queryable, s: NewStation): Promise<StationRecord> {
  const now = new Date(s.nowMs);
  const res = await q.query<StationDbRow>(
    `INSERT INTO sensors AS x (sensor_id, kind, name, external_id, lat, lon, elevation_m, owner_partner, key_hash, registered_at, first_seen, last_seen)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $10)
     ON CONFLICT (sensor_id) DO UPDATE SET
       kind = EXCLUDED.kind, name = EXCLUDED.name, external_id = EXCLUDED.external_id, lat = EXCLUDED.lat, lon = EXCLUDED.lon,
       elevation_m = EXCLUDED.elevation_m, owner_partner = EXCLUDED.owner_partner, key_hash = EXCLUDED.key_hash, registered_at = EXCLUDED.registered_at
       WHERE x.registered_at IS NULL
     RETURNING ${STATION_COLUMNS}`,
    [s.stationId, s.kind, s.name, s.externalId, s.lat, s.lon, s.elevationM, s.ownerPartner, s.keyHash, now],
  );
  const row = res.rows[0];
  if (!row) throw new StationExistsError(`station ${s.stationId} is already registered`);
  return toRecord(row);
}

/**
 * Registers stations that reach the bus from a trusted source (replay, an operator's import) without
 * keys: new ids are inserted, registered ones keep what they have. Returns how many were new.
 */
export async function ensureStations(q: Queryable, stations: readonly Omit<NewStation, 'keyHash'>[]): Promise<number> {
  if (stations.length === 0) return 0;
  const res = await q.query(
    `INSERT INTO sensors (sensor_id, kind, name, external_id, lat, lon, elevation_m, owner_partner, registered_at, first_seen, last_seen)
     SELECT id, kind, name, ext, lat, lon, elev, owner, now_, now_, now_
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::float8[], $8::text[], $9::timestamptz[])
       AS t(id, kind, name, ext, lat, lon, elev, owner, now_)
     ON CONFLICT (sensor_id) DO UPDATE SET name = EXCLUDED.name, external_id = EXCLUDED.external_id, lat = EXCLUDED.lat, lon = EXCLUDED.lon,
       elevation_m = EXCLUDED.elevation_m, registered_at = EXCLUDED.registered_at
       WHERE sensors.registered_at IS NULL`,
    [
      stations.map((s) => s.stationId), stations.map((s) => s.kind), stations.map((s) => s.name), stations.map((s) => s.externalId),
      stations.map((s) => s.lat), stations.map((s) => s.lon), stations.map((s) => s.elevationM), stations.map((s) => s.ownerPartner),
      stations.map((s) => new Date(s.nowMs)),
    ],
  );
  return res.rowCount;
}

export async function getStation(q: Queryable, stationId: string): Promise<StationRecord | null> {
  const res = await q.query<StationDbRow>(`SELECT ${STATION_COLUMNS} FROM sensors WHERE sensor_id = $1`, [stationId]);
  return res.rows[0] ? toRecord(res.rows[0]) : null;
}

export async function stationCredentials(q: Queryable, stationId: string): Promise<StationCredentials | null> {
  const res = await q.query<StationDbRow & { key_hash: string | null; ecowitt_passkey: string | null }>(
    `SELECT ${STATION_COLUMNS}, key_hash, ecowitt_passkey FROM sensors WHERE sensor_id = $1`,
    [stationId],
  );
  const r = res.rows[0];
  return r ? { ...toRecord(r), keyHash: r.key_hash, ecowittPasskey: r.ecowitt_passkey } : null;
}

/** The stations among `ids` that exist and are registered, with what authorising a partner needs. */
export async function stationsByIds(q: Queryable, ids: readonly string[]): Promise<StationRecord[]> {
  if (ids.length === 0) return [];
  const res = await q.query<StationDbRow>(`SELECT ${STATION_COLUMNS} FROM sensors WHERE sensor_id = ANY($1::text[])`, [ids]);
  return res.rows.map(toRecord);
}

export interface StationPatch {
  name?: string;
  externalId?: string | null;
  lat?: number;
  lon?: number;
  elevationM?: number | null;
  kind?: SensorKind;
  ownerPartner?: string | null;
  /** true: disable (now), false: enable again. */
  disabled?: boolean;
  /** A new key's hash (the old key stops working). */
  keyHash?: string;
  /** Unbinds the Ecowitt console, so the next upload binds its PASSKEY again. */
  clearEcowittPasskey?: boolean;
}

/** Applies an edit to a registered station; null when no registered station has that id. */
export async function updateStation(q: Queryable, stationId: string, p: StationPatch, nowMs: number): Promise<StationRecord | null> {
  const sets: string[] = [];
  const params: unknown[] = [stationId];
  const set = (column: string, value: unknown) => {
    params.push(value);
    sets.push(`${column} = $${params.length}`);
  };
  if (p.name !== undefined) set('name', p.name);
  if (p.externalId !== undefined) set('external_id', p.externalId);
  if (p.lat !== undefined) set('lat', p.lat);
  if (p.lon !== undefined) set('lon', p.lon);
  if (p.elevationM !== undefined) set('elevation_m', p.elevationM);
  if (p.kind !== undefined) set('kind', p.kind);
  if (p.ownerPartner !== undefined) set('owner_partner', p.ownerPartner);
  if (p.disabled !== undefined) set('disabled_at', p.disabled ? new Date(nowMs) : null);
  if (p.keyHash !== undefined) set('key_hash', p.keyHash);
  if (p.clearEcowittPasskey) sets.push('ecowitt_passkey = NULL');
  if (sets.length === 0) return getStation(q, stationId);
  const res = await q.query<StationDbRow>(
    `UPDATE sensors SET ${sets.join(', ')} WHERE sensor_id = $1 AND registered_at IS NOT NULL RETURNING ${STATION_COLUMNS}`,
    params,
  );
  return res.rows[0] ? toRecord(res.rows[0]) : null;
}

/**
 * Binds an Ecowitt console's PASSKEY to a station on its first upload. Returns the PASSKEY bound
 * afterwards: the given one, or the one an earlier upload bound (the caller compares).
 */
export async function bindEcowittPasskey(q: Queryable, stationId: string, passkey: string): Promise<string | null> {
  const res = await q.query<{ ecowitt_passkey: string | null }>(
    `UPDATE sensors SET ecowitt_passkey = COALESCE(ecowitt_passkey, $2) WHERE sensor_id = $1 RETURNING ecowitt_passkey`,
    [stationId, passkey],
  );
  return res.rows[0]?.ecowitt_passkey ?? null;
}

export interface StationReading {
  timeMs: number;
  tempC: number;
  humidityPct: number | null;
  pressureHpa: number | null;
}

/** The station's newest reading, or null. */
export async function lastReading(q: Queryable, stationId: string): Promise<StationReading | null> {
  const rows = await readingsOf(q, stationId, -Infinity, Infinity, 1, 'desc');
  return rows[0] ?? null;
}

/** The station's readings in [fromMs, toMs), oldest first (or newest first), at most `limit`. */
export async function readingsOf(q: Queryable, stationId: string, fromMs: number, toMs: number, limit: number, order: 'asc' | 'desc' = 'asc'): Promise<StationReading[]> {
  const res = await q.query<{ time: Date; temp_c: number; humidity_pct: number | null; pressure_hpa: number | null }>(
    `SELECT time, temp_c, humidity_pct, pressure_hpa FROM readings
     WHERE sensor_id = $1 AND time >= $2 AND time < $3 ORDER BY time ${order === 'asc' ? 'ASC' : 'DESC'} LIMIT $4`,
    [stationId, Number.isFinite(fromMs) ? new Date(fromMs) : new Date(0), Number.isFinite(toMs) ? new Date(toMs) : new Date(7_258_118_400_000), limit],
  );
  return res.rows.map((r) => ({ timeMs: r.time.getTime(), tempC: r.temp_c, humidityPct: r.humidity_pct, pressureHpa: r.pressure_hpa }));
}

// ---- partners ---------------------------------------------------------------------------------

export interface PartnerRecord {
  partnerId: string;
  name: string;
  createdAtMs: number;
  disabledAtMs: number | null;
}

export interface PartnerCredentials extends PartnerRecord {
  tokenHash: string;
}

export async function insertPartner(q: Queryable, p: { partnerId: string; name: string; tokenHash: string; nowMs: number }): Promise<PartnerRecord> {
  const res = await q.query<{ partner_id: string; name: string; created_at: Date; disabled_at: Date | null }>(
    `INSERT INTO partners (partner_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING partner_id, name, created_at, disabled_at`,
    [p.partnerId, p.name, p.tokenHash, new Date(p.nowMs)],
  );
  const r = res.rows[0]!;
  return { partnerId: r.partner_id, name: r.name, createdAtMs: r.created_at.getTime(), disabledAtMs: null };
}

export async function partnerCredentials(q: Queryable, partnerId: string): Promise<PartnerCredentials | null> {
  const res = await q.query<{ partner_id: string; name: string; token_hash: string; created_at: Date; disabled_at: Date | null }>(
    `SELECT partner_id, name, token_hash, created_at, disabled_at FROM partners WHERE partner_id = $1`,
    [partnerId],
  );
  const r = res.rows[0];
  return r ? { partnerId: r.partner_id, name: r.name, tokenHash: r.token_hash, createdAtMs: r.created_at.getTime(), disabledAtMs: r.disabled_at ? r.disabled_at.getTime() : null } : null;
}

export async function setPartnerDisabled(q: Queryable, partnerId: string, disabled: boolean, nowMs: number): Promise<boolean> {
  const res = await q.query(`UPDATE partners SET disabled_at = $2 WHERE partner_id = $1`, [partnerId, disabled ? new Date(nowMs) : null]);
  return res.rowCount > 0;
}

export async function setPartnerTokenHash(q: Queryable, partnerId: string, tokenHash: string): Promise<boolean> {
  const res = await q.query(`UPDATE partners SET token_hash = $2 WHERE partner_id = $1`, [partnerId, tokenHash]);
  return res.rowCount > 0;
}
