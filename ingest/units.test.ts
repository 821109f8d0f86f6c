// Conversions against reference values: the Fahrenheit scale's fixed points and NIST's inHg factor.
import { test } from 'node:test';
import { close } from '../infra/testing/close.ts';
import { fahrenheitToCelsius, inHgToHpa } from './units.ts';

test('°F to °C at the scale fixed points and the crossing at -40', () => {
  // Exact conversions: only float rounding (1e-12 K) is allowed.
  close(fahrenheitToCelsius(32), 0, { atol: 1e-12 });
  close(fahrenheitToCelsius(212), 100, { atol: 1e-12 });
  close(fahrenheitToCelsius(-40), -40, { atol: 1e-12 });
  close(fahrenheitToCelsius(98.6), 37, { atol: 1e-12 });
});

test('inHg to hPa: the standard atmosphere 29.9213 inHg is 1013.25 hPa', () => {
  // 1013.25 hPa / 33.86389 = 29.92126 inHg; 29.92126 is given to 7 significant digits, so 1e-3 hPa.
  close(inHgToHpa(29.92126), 1013.25, { atol: 1e-3 });
  close(inHgToHpa(1), 33.86389, { atol: 1e-12 });
});
