/**
 * The station registry's SQL contract (migration 005), run unchanged against every adapter
 * (stations.test.ts runs it on the embedded engine and on pg).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Store } from './store.ts';
import { bindEcowittPasskey, ensureStations, getStation, insertPartner, insertStation, lastReading, partnerCredentials, readingsOf, setPartnerDisabled, stationCredentials, stationsByIds, updateStation, StationExistsError } from './stations.ts';
import { insertReadings, upsertSensors } from './readings.ts';

const T = Date.UTC(2026, 0, 5, 10);

export function runRegistryContract(name: string, open: () => Promise<{ store: Store; cleanup: () => Promise<void> }>): void {
  describe(`station registry SQL: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => ({ store, cleanup } = await open()));
    after(async () => {
      await store?.close();
      await cleanup?.();
    });

    test('registers, reads, edits and disables a station; the hash is returned only to authentication', async () => {
      const s = await insertStation(store, { stationId: 'st-a', kind: 'amateur', name: 'A', externalId: 'x1', lat: 52.5, lon: 13.4, elevationM: 40, ownerPartner: null, keyHash: 'scrypt$h', nowMs: T });
      assert.deepEqual(s, { stationId: 'st-a', kind: 'amateur', name: 'A', externalId: 'x1', lat: 52.5, lon: 13.4, elevationM: 40, ownerPartner: null, registeredAtMs: T, disabledAtMs: null });
      assert.ok(!('keyHash' in (await getStation(store, 'st-a'))!));
      assert.equal((await stationCredentials(store, 'st-a'))!.keyHash, 'scrypt$h');
      await assert.rejects(insertStation(store, { stationId: 'st-a', kind: 'amateur', name: 'B', externalId: null, lat: 1, lon: 1, elevationM: null, ownerPartner: null, keyHash: 'other', nowMs: T }), StationExistsError);
      const edited = await updateStation(store, 'st-a', { name: 'A2', lat: 52.6, disabled: true, keyHash: 'scrypt$new' }, T + 1000);
      assert.deepEqual({ name: edited!.name, lat: edited!.lat, disabledAtMs: edited!.disabledAtMs }, { name: 'A2', lat: 52.6, disabledAtMs: T + 1000 });
      assert.equal((await stationCredentials(store, 'st-a'))!.keyHash, 'scrypt$new');
      assert.equal((await updateStation(store, 'st-a', { disabled: false }, T))!.disabledAtMs, null);
      assert.equal(await updateStation(store, 'nobody', { name: 'x' }, T), null);
    });

    test('a sensor first seen on the bus is taken over by its registration; the bus never moves a registered station', async () => {
      await upsertSensors(store, [{ sensorId: 'st-b', kind: 'amateur', lat: 1, lon: 1, elevationM: null, lastSeenMs: T }]);
      assert.equal((await getStation(store, 'st-b'))!.registeredAtMs, null);
      await insertStation(store, { stationId: 'st-b', kind: 'official', name: 'B', externalId: null, lat: 52.4, lon: 13.3, elevationM: null, ownerPartner: null, keyHash: 'h', nowMs: T });
      await upsertSensors(store, [{ sensorId: 'st-b', kind: 'official', lat: 9, lon: 9, elevationM: 9, lastSeenMs: T + 60_000 }]);
      const b = (await getStation(store, 'st-b'))!;
      assert.deepEqual([b.kind, b.lat, b.lon, b.registeredAtMs], ['official', 52.4, 13.3, T]);
    });

    test('ensureStations registers new ids once and leaves registered ones alone', async () => {
      const list = [{ stationId: 'nm-1', kind: 'amateur' as const, name: 'n1', externalId: '1', lat: 52, lon: 13, elevationM: null, ownerPartner: null, nowMs: T }, { stationId: 'st-a', kind: 'official' as const, name: 'hijack', externalId: null, lat: 0, lon: 0, elevationM: null, ownerPartner: null, nowMs: T }];
      assert.equal(await ensureStations(store, list), 1);
      assert.equal(await ensureStations(store, list), 0);
      assert.equal((await getStation(store, 'st-a'))!.name, 'A2');
    });

    test('partners own stations; an Ecowitt PASSKEY binds once', async () => {
      await insertPartner(store, { partnerId: 'pt-1', name: 'Fleet', tokenHash: 'th', nowMs: T });
      assert.equal((await partnerCredentials(store, 'pt-1'))!.tokenHash, 'th');
      assert.ok(await setPartnerDisabled(store, 'pt-1', true, T));
      assert.equal((await partnerCredentials(store, 'pt-1'))!.disabledAtMs, T);
      await insertStation(store, { stationId: 'st-p', kind: 'amateur', name: 'P', externalId: null, lat: 52, lon: 13, elevationM: null, ownerPartner: 'pt-1', keyHash: 'h', nowMs: T });
      assert.deepEqual((await stationsByIds(store, ['st-p', 'none'])).map((x) => [x.stationId, x.ownerPartner]), [['st-p', 'pt-1']]);
      assert.equal(await bindEcowittPasskey(store, 'st-p', 'AAAA1111'), 'AAAA1111');
      assert.equal(await bindEcowittPasskey(store, 'st-p', 'BBBB2222'), 'AAAA1111');
      await updateStation(store, 'st-p', { clearEcowittPasskey: true }, T);
      assert.equal(await bindEcowittPasskey(store, 'st-p', 'BBBB2222'), 'BBBB2222');
    });

    test('a station’s readings in a range and its last reading', async () => {
      const row = (m: number, tempC: number) => ({ sensorId: 'st-a', timeMs: T + m * 60_000, kind: 'amateur' as const, lat: 52.6, lon: 13.4, elevationM: null, cell: 'c', tempC, humidityPct: null, pressureHpa: null });
      await insertReadings(store, [row(0, 1), row(5, 2), row(10, 3)]);
      assert.deepEqual((await readingsOf(store, 'st-a', T, T + 10 * 60_000, 100)).map((r) => r.tempC), [1, 2]);
      assert.deepEqual(await lastReading(store, 'st-a'), { timeMs: T + 10 * 60_000, tempC: 3, humidityPct: null, pressureHpa: null });
      assert.equal(await lastReading(store, 'nm-1'), null);
    });
  });
}

