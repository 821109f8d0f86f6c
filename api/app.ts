/** The HTTP API as an Express app (no port: the server role listens; tests use an ephemeral one). */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Store } from '../infra/store/index.ts';
import type { Logger } from '../infra/log.ts';
import type { BBox } from '../infra/geo/index.ts';
import { latestBatchRun } from '../infra/store/index.ts';
import { ApiError, errorBody } from './errors.ts';
import { forecastHandler } from './forecast.ts';
import { submissionRoutes, type SubmissionDeps } from './submission.ts';

export interface AppDeps {
  store: Store;
  log: Logger;
  bbox: BBox;
  resolution: number;
  maxAgeMs: number;
  now?: () => number;
  /** Station registry and reading submission routes (absent: not served). */
  submission?: SubmissionDeps;
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.get('/', (_req, res) => {
    res.json({
      name: 'hyperlocal air-temperature nowcast',
      endpoints: {
        forecast: '/v1/forecast?latitude=52.52&longitude=13.405',
        health: '/healthz',
      },
      coverage: deps.bbox,
    });
  });

  app.get('/v1/forecast', forecastHandler(deps));

  app.get('/healthz', async (_req, res) => {
    try {
      const run = await latestBatchRun(deps.store);
      res.json({
        status: 'ok',
        store: deps.store.kind,
        last_batch: run && { window_end: new Date(run.windowEndMs).toISOString(), status: run.status, readings: run.nReadings, sensors: run.nSensors, cells: run.nCells, error: run.error },
      });
    } catch (err) {
      res.status(503).json({ status: 'unavailable', store: deps.store.kind, reason: err instanceof Error ? err.message : String(err) });
    }
  });

  if (deps.submission) app.use(submissionRoutes(deps.submission));

  app.use((req, _res, next) => next(new ApiError('NOT_FOUND', `No route for ${req.method} ${req.path}.`)));

  // The one place where errors become HTTP responses.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err instanceof ApiError ? err : new ApiError('INTERNAL', 'Internal error.');
    if (e.code === 'INTERNAL') deps.log.error({ err, path: req.path }, 'unhandled error');
    if (e.details.retryAfterS !== undefined) res.set('Retry-After', String(e.details.retryAfterS));
    res.status(e.status).json(errorBody(e));
  });
  return app;
}
