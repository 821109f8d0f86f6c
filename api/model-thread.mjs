// Entry of the model thread: worker threads do not inherit the TypeScript loader of the main
// thread, so this registers tsx's loader in the thread, then loads the TypeScript module.
import { register } from 'tsx/esm/api';

register();
await import('./model-thread-worker.ts');
