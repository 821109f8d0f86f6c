// Entry of a map thread: worker threads do not inherit the TypeScript loader of the thread that
// starts them, so this registers tsx's loader here, then loads the TypeScript module.
import { register } from 'tsx/esm/api';

register();
await import('./map-worker.ts');
