/**
 * The model registry over HTTP:
 *   GET  /v1/models                  the models, their versions and status
 *   GET  /v1/models/{name}           a model's card
 *   POST /v1/models/{name}/predict   { inputs: { <name>: { dims: [..], data: [..] } } } →
 *                                    { model, version, outputs: { <name>: { dims, data } } }
 * Tensors are float32, row-major; `null` in data is a missing value (NaN) and comes back as null.
 * Shapes and types are checked against the card: a mismatch is a 400 naming both sizes.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { MODEL_NAME_RE, ModelRegistry } from '../models/index.ts';
import { ApiError } from './errors.ts';
import type { RouteDoc } from './openapi.ts';
import type { ApiModuleFactory } from './module.ts';
import { registryModelService, type ModelService } from './model-service.ts';
import { predictApiError, predictRequestSchema, predictResponseSchema } from './predict-body.ts';

export { PREDICT_MAX_VALUES, tensorSchema, predictRequestSchema, predictResponseSchema, type PredictRequest } from './predict-body.ts';

export const modelSummarySchema = z.object({
  name: z.string(),
  version: z.string().nullable(),
  status: z.enum(['ok', 'missing', 'failing']),
  description: z.string().nullable(),
});

const nameParams = z.object({ name: z.string().regex(MODEL_NAME_RE).describe('model name, e.g. bilstm, ar-5min, ar-hourly') });
const errorJson = z.object({ error: z.literal(true), code: z.string(), reason: z.string() });
const json = (schema: z.ZodType) => ({ 'application/json': schema });

/**
 * The routes' documentation for /openapi.json, from the same zod schemas the routes validate with
 * (the shape of the API's RouteDoc: method, path, summary, params, body, responses).
 */
export const modelsRouteDocs: RouteDoc[] = [
  {
    method: 'get' as const, path: '/v1/models', summary: 'The served models', tags: ['models'],
    responses: { 200: { description: 'name, version and status of every model', content: json(z.object({ models: z.array(modelSummarySchema) })) } },
  },
  {
    method: 'get' as const, path: '/v1/models/{name}', summary: 'A model card', tags: ['models'], params: nameParams,
    responses: {
      200: { description: 'the card: inputs and normalisation, outputs, training data and period, metrics, version, sha256', content: json(z.object({ name: z.string(), version: z.string(), sha256: z.string() }).passthrough()) },
      404: { description: 'no such model loaded (NOT_FOUND)', content: json(errorJson) },
    },
  },
  {
    method: 'post' as const, path: '/v1/models/{name}/predict', summary: 'Run a model on float32 tensors', tags: ['models'], params: nameParams,
    body: { description: 'named input tensors, row-major; null is a missing value', content: json(predictRequestSchema) },
    responses: {
      200: { description: 'named output tensors; null where not finite', content: json(predictResponseSchema) },
      400: { description: 'malformed body, or a tensor whose shape or type the card does not allow (INVALID_PARAMETER, naming both sizes)', content: json(errorJson) },
      404: { description: 'no such model loaded (NOT_FOUND)', content: json(errorJson) },
      413: { description: 'a body over 64 MiB (PAYLOAD_TOO_LARGE)', content: json(errorJson) },
      500: { description: 'the model failed (INTERNAL; the registry reports it degraded)', content: json(errorJson) },
      503: { description: 'too many predictions waiting for the model thread (NOT_READY, with Retry-After)', content: json(errorJson) },
    },
  },
];

/**
 * The routes as an API module: `{ router, docs }`, mounted with the models of the process — its model
 * thread (what the API's processes use), or a registry on this thread.
 */
export function modelsModule(models: ModelService | ModelRegistry): ApiModuleFactory {
  const service = models instanceof ModelRegistry ? registryModelService(models) : models;
  return () => ({ router: modelsRouter({ models: service }), docs: modelsRouteDocs });
}

function modelName(req: Request): string {
  const name = String(req.params['name'] ?? '');
  if (!MODEL_NAME_RE.test(name)) throw new ApiError('NOT_FOUND', `No model "${name}".`);
  return name;
}

/** The largest predict body read [bytes] (4,000,000 values fit with room to spare). */
const PREDICT_MAX_BODY_BYTES = 64 * 1024 * 1024;

export function modelsRouter(deps: { models: ModelService }): Router {
  const router = express.Router();
  const { models } = deps;

  router.get('/v1/models', (_req, res) => {
    res.json({
      models: models.list().map((m) => ({ name: m.name, version: m.version ?? null, status: m.status, description: m.card?.description ?? null })),
    });
  });

  router.get('/v1/models/:name', (req, res) => {
    const name = modelName(req);
    const card = models.card(name);
    if (!card) throw new ApiError('NOT_FOUND', `No model "${name}" is loaded.`);
    res.json(card);
  });

  // The body stays raw bytes here: decoding it is the model service's work (on the model thread).
  router.post('/v1/models/:name/predict', express.raw({ type: () => true, limit: PREDICT_MAX_BODY_BYTES }), async (req, res, next) => {
    try {
      const name = modelName(req);
      if (!models.card(name)) throw new ApiError('NOT_FOUND', `No model "${name}" is loaded.`);
      const body: unknown = req.body;
      const json = await models.predict(name, body instanceof Uint8Array ? body : new Uint8Array(0));
      res.type('application/json').send(json);
    } catch (err) {
      next(predictApiError(err) ?? err);
    }
  });

  // A body too large, or in an encoding the server cannot undo, is the client's error, not an internal one.
  router.use((err: unknown, _req: Request, _res: Response, next: NextFunction) => {
    const e = err as { type?: string; message?: string };
    if (e && e.type === 'entity.too.large') {
      next(new ApiError('PAYLOAD_TOO_LARGE', `The request body is larger than ${PREDICT_MAX_BODY_BYTES / 1048576} MiB.`));
      return;
    }
    if (e && (e.type === 'encoding.unsupported' || e.type === 'request.aborted' || e.type === 'request.size.invalid')) {
      next(new ApiError('INVALID_PARAMETER', `Unreadable request body: ${e.message ?? e.type}.`));
      return;
    }
    next(err);
  });
  return router;
}
