import { syntheticWindow } from '../bench/models.ts';
import { buildFeatures } from '../models/index.ts';
import { buildFeatures as old } from './features-old.ts';
const w = syntheticWindow(32768);
for (let r = 0; r < 6; r++) {
  let t0 = performance.now(); buildFeatures(w, 'time-major', 'float32'); const a = performance.now() - t0;
  t0 = performance.now(); old(w, 'time-major', 'float32'); const b = performance.now() - t0;
  console.log('new', a.toFixed(0), 'old', b.toFixed(0));
}
