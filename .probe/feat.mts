import { syntheticWindow } from '../bench/models.ts';
import { buildFeatures } from '../models/index.ts';
const w = syntheticWindow(100000);
for (let r = 0; r < 3; r++) { const t0 = performance.now(); const f = buildFeatures(w, 'time-major', 'float32'); console.log('features ms', (performance.now() - t0).toFixed(0), f.x.length); }
