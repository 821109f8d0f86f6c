/**
 * The submission routes on an Express app of their own, with the error catalogue's answers: for the
 * tests and the ingest benchmark, which then do not depend on how the full API composes its app.
 * The API itself mounts `submissionRoutes` (or `ingestApiModule`) behind its shared middleware.
 */
import { loggedPath } from './request-log.ts';
import express, { type NextFunction, type Request, type Response } from 'express';
import { ApiError, errorBody } from './errors.ts';
import { submissionRoutes, type SubmissionDeps } from './submission.ts';

export function submissionApp(deps: SubmissionDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(submissionRoutes(deps));
  app.use((req, _res, next) => next(new ApiError('NOT_FOUND', `No route for ${req.method} ${loggedPath(req.path)}.`)));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err instanceof ApiError ? err : new ApiError('INTERNAL', 'Internal error.');
    if (e.code === 'INTERNAL') deps.log.error({ err, path: loggedPath(req.path) }, 'unhandled error');
    if (e.details.retryAfterS !== undefined) res.set('Retry-After', String(e.details.retryAfterS));
    res.status(e.status).json(errorBody(e));
  });
  return app;
}
