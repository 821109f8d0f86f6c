/**
 * The model thread: the registry of the HTTP side of a process, and all the work of a prediction —
 * decoding the body, checking it, running the session, encoding the answer. The HTTP thread only
 * hands over the raw body and writes back the text, so a request of millions of values holds up no
 * other request. The registry's state goes to the HTTP thread whenever it changes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ModelRegistry } from '../models/index.ts';
import { createLogger } from '../infra/log.ts';
import { ApiError } from './errors.ts';
import { predictOn } from './model-service.ts';
import { predictApiError } from './predict-body.ts';
import type { FromModelThread, ModelThreadData, ModelThreadState, ToModelThread } from './model-thread-protocol.ts';

const data = workerData as ModelThreadData;
const port = parentPort!;
const log = createLogger(data.logLevel).child({ component: 'models', thread: 'model' });
const post = (m: FromModelThread): void => port.postMessage(m);

let registry: ModelRegistry | undefined;
try {
  registry = await ModelRegistry.open(data.dir, {
    pollMs: data.pollMs,
    expected: data.expected,
    log,
    onChange: () => sendState(),
    ...(data.intraOpThreads !== undefined ? { intraOpThreads: data.intraOpThreads } : {}),
  });
} catch (err) {
  post({ kind: 'open-failed', reason: (err as Error).message });
  throw err;
}

let sent = '';
/** The registry's state to the HTTP thread, when it differs from what was sent last. */
function sendState(): void {
  if (!registry) return; // the first scan, inside open(): sent once open() returns
  const state: ModelThreadState = { list: registry.list(), health: registry.health() };
  const text = JSON.stringify(state);
  if (text === sent) return;
  sent = text;
  post({ kind: 'state', state });
}
sendState();
const models = registry;

port.on('message', (m: ToModelThread) => {
  if (m.kind === 'close') {
    void models.close().finally(() => post({ kind: 'closed' }));
    return;
  }
  void predictOn(models, m.name, m.body).then(
    (json) => post({ kind: 'answer', id: m.id, json }),
    (err: unknown) => {
      const e = predictApiError(err) ?? new ApiError('INTERNAL', 'Internal error.');
      if (e.code === 'INTERNAL') log.error({ err, model: m.name }, 'prediction failed');
      post({ kind: 'failed', id: m.id, code: e.code, reason: e.message, ...(e.details.retryAfterS !== undefined ? { retryAfterS: e.details.retryAfterS } : {}) });
    },
  );
});
