// The airRohr firmware's "own API" body: the temperature chosen among the attached sensors, humidity
// from the same one, pressure from Pa, stamped on arrival; every refusal names the value type.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { close } from '../infra/testing/close.ts';
import { parseSensorCommunityUpload } from './sensor-community.ts';

const NOW = Date.UTC(2026, 10, 29, 14, 0, 0);

/** The body as the firmware writes it (its spacing; values as strings with two decimals). */
function firmwareBody(values: [string, string][]): unknown {
  const list = values.map(([t, v]) => `{"value_type":"${t}","value":"${v}"}`).join(',');
  return JSON.parse(`{"esp8266id": "13374211", "software_version": "NRZ-2024-135", "sensordatavalues":[${list}]}`);
}

describe('Sensor.Community upload', () => {
  it('an SDS011 + BME280 node: the BME280 temperature, its humidity, its pressure in hPa, at arrival', () => {
    const r = parseSensorCommunityUpload(firmwareBody([
      ['SDS_P1', '12.40'], ['SDS_P2', '7.10'], ['BME280_temperature', '4.27'], ['BME280_pressure', '100872.16'], ['BME280_humidity', '81.30'],
      ['samples', '5031212'], ['min_micro', '28'], ['max_micro', '20195'], ['interval', '145000'], ['signal', '-71'],
    ]), NOW);
    assert.ok(r.ok);
    assert.deepEqual({ ...r.value, pressureHpa: undefined }, { timeMs: NOW, tempC: 4.27, humidityPct: 81.3, pressureHpa: undefined });
    close(r.value.pressureHpa!, 1008.7216, { atol: 1e-9 });
    assert.deepEqual(r.names, { time: 'time of arrival', temp: 'BME280_temperature', humidity: 'BME280_humidity', pressure: 'BME280_pressure (as hPa)' });
  });

  it('the better sensor first, and humidity from the same sensor', () => {
    const r = parseSensorCommunityUpload(firmwareBody([['temperature', '6.00'], ['humidity', '90.00'], ['SHT3X_temperature', '5.10'], ['SHT3X_humidity', '84.00'], ['BMP280_temperature', '9.90'], ['BMP280_pressure', '99000.00']]), NOW);
    assert.ok(r.ok);
    assert.deepEqual(r.value, { timeMs: NOW, tempC: 5.1, humidityPct: 84, pressureHpa: 990 });
    const dht = parseSensorCommunityUpload(firmwareBody([['BMP_temperature', '8.00'], ['BMP_pressure', '100000'], ['humidity', '70.00'], ['temperature', '6.50']]), NOW);
    assert.ok(dht.ok);
    assert.deepEqual(dht.value, { timeMs: NOW, tempC: 6.5, humidityPct: 70, pressureHpa: 1000 }, 'the DHT22 before a BMP180 inside the case');
    const probe = parseSensorCommunityUpload(firmwareBody([['DS18B20_temperature', '-3.25'], ['SCD30_temperature', '21.0'], ['SCD30_humidity', '40.0']]), NOW);
    assert.ok(probe.ok);
    assert.deepEqual(probe.value, { timeMs: NOW, tempC: -3.25, humidityPct: 40, pressureHpa: null }, 'a probe before an indoor CO2 sensor; humidity from whichever has it');
  });

  it('numbers as numbers too', () => {
    const r = parseSensorCommunityUpload({ sensordatavalues: [{ value_type: 'HTU21D_temperature', value: -0.5 }] }, NOW);
    assert.ok(r.ok);
    assert.equal(r.value.tempC, -0.5);
    assert.equal(r.value.humidityPct, null);
  });

  it('refusals name the field: no temperature sensor, a value that is not a number, not the firmware\'s shape', () => {
    const pmOnly = parseSensorCommunityUpload(firmwareBody([['SDS_P1', '3.0'], ['SDS_P2', '1.0']]), NOW);
    assert.ok(!pmOnly.ok);
    assert.equal(pmOnly.problem.reason, 'missing_temperature');
    assert.equal(pmOnly.problem.field, 'sensordatavalues');
    assert.match(pmOnly.problem.message, /SDS_P1, SDS_P2/);
    const cases: [unknown, string, RegExp][] = [
      [firmwareBody([['BME280_temperature', 'nan']]), 'BME280_temperature', /not a number/],
      [firmwareBody([['BME280_temperature', '']]), 'BME280_temperature', /not a number/],
      [firmwareBody([['BME280_temperature', '5'], ['BME280_humidity', 'x']]), 'BME280_humidity', /not a number/],
      [firmwareBody([['temperature', '5'], ['BMP_pressure', '1e400']]), 'BMP_pressure', /not a number/],
      [{ sensordatavalues: [{ value: '5' }] }, 'sensordatavalues[0]', /value_type/],
      [{ sensordatavalues: 'BME280_temperature=5' }, 'sensordatavalues', /array/],
      [{ esp8266id: '1' }, 'sensordatavalues', /missing/],
      [[1, 2], 'body', /object/],
      [null, 'body', /object/],
    ];
    for (const [body, field, message] of cases) {
      const r = parseSensorCommunityUpload(body, NOW);
      assert.ok(!r.ok, JSON.stringify(body));
      assert.equal(r.problem.field, field, JSON.stringify(body));
      assert.equal(r.problem.reason, 'malformed');
      assert.match(r.problem.message, message);
    }
  });
});
