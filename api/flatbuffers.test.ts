// The enum values the encoder writes are the ones the official SDK's schema defines.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Variable } from '@openmeteo/sdk/variable.js';
import { Unit } from '@openmeteo/sdk/unit.js';
import { Aggregation } from '@openmeteo/sdk/aggregation.js';
import { AGGREGATION_SPREAD, UNIT_CELSIUS, UNIT_FAHRENHEIT, VARIABLE_TEMPERATURE } from './flatbuffers.ts';

describe('flatbuffers encoder', () => {
  it('writes the schema\'s codes for temperature, its units and the spread', () => {
    assert.equal(VARIABLE_TEMPERATURE, Variable.temperature);
    assert.equal(UNIT_CELSIUS, Unit.celsius);
    assert.equal(UNIT_FAHRENHEIT, Unit.fahrenheit);
    assert.equal(AGGREGATION_SPREAD, Aggregation.spread);
  });
});
