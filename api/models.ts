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
import { ModelError, MODEL_NAME_RE, type ModelRegistry } from '../models/index.ts';
import { ApiError } from './errors.ts';
import type { RouteDoc } from './openapi.ts';
import type { ApiModuleFactory } from './module.ts';

/** Most values one predict request may carry (all inputs together). */
export const PREDICT_MAX_VALUES = 4_000_000;

export const tensorSchema = z.object({
  dims: z.array(z.number().int().nonnegative()).min(1).max(8),
  data: z.array(z.number().nullable()),
}).strict();

export const predictRequestSchema = z.object({
  inputs: z.record(z.string().min(1), tensorSchema),
}).strict();

export type PredictRequest = z.infer<typeof predictRequestSchema>;

export const modelSummarySchema = z.object({
  name: z.string(),
  version: z.string().nullable(),
  status: z.enum(['ok', 'missing', 'failing']),
  description: z.string().nullable(),
});

export const predictResponseSchema = z.object({
  model: z.string(),
  version: z.string(),
  outputs: z.record(z.string(), z.object({ dims: z.array(z.number().int()), data: z.array(z.number().nullable()) })),
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
      500: { description: 'the model failed (INTERNAL; the registry reports it degraded)', content: json(errorJson) },
    },
  },
];

/** The routes as an API module: `{ router, docs }` (mount with the registry of the process). */
export function modelsModule(registry: ModelRegistry): ApiModuleFactory {
  return () => ({ router: modelsRouter({ registry }), docs: modelsRouteDocs });
}

function modelName(req: Request): string {
  const name = String(req.params['name'] ?? '');
  if (!MODEL_NAME_RE.test(name)) throw new ApiError('NOT_FOUND', `No model "${name}".`);
  return name;
}

export function modelsRouter(deps: { registry: ModelRegistry }): Router {
  const router = express.Router();
  const { registry } = deps;

  router.get('/v1/models', (_req, res) => {
    res.json({
      models: registry.list().map((m) => ({ name: m.name, version: m.version ?? null, status: m.status, description: m.card?.description ?? null })),
    });
  });

  router.get('/v1/models/:name', (req, res) => {
    const name = modelName(req);
    const card = registry.card(name);
    if (!card) throw new ApiError('NOT_FOUND', `No model "${name}" is loaded.`);
    res.json(card);
  });

  router.post('/v1/models/:name/predict', express.json({ limit: '64mb' }), async (req, res, next) => {
    try {
      const name = modelName(req);
      const card = registry.card(name);
      if (!card) throw new ApiError('NOT_FOUND', `No model "${name}" is loaded.`);
      const parsed = predictRequestSchema.safeParse(req.body);
      if (!parsed.success) {
        const i = parsed.error.issues[0]!;
        throw new ApiError('INVALID_PARAMETER', `Invalid request body at ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}. Expected { "inputs": { "<name>": { "dims": [..], "data": [..] } } }.`);
      }
      let total = 0;
      const feeds: Record<string, { dims: number[]; data: Float32Array }> = {};
      for (const [k, t] of Object.entries(parsed.data.inputs)) {
        total += t.data.length;
        if (total > PREDICT_MAX_VALUES) throw new ApiError('INVALID_PARAMETER', `Too many values: at most ${PREDICT_MAX_VALUES} per request.`);
        feeds[k] = { dims: t.dims, data: Float32Array.from(t.data, (v) => (v === null ? NaN : v)) };
      }
      const r = await registry.run(name, feeds);
      const outputs: Record<string, { dims: number[]; data: (number | null)[] }> = {};
      for (const [k, t] of Object.entries(r.outputs)) outputs[k] = { dims: t.dims, data: Array.from(t.data, (v) => (Number.isFinite(v) ? v : null)) };
      res.json({ model: name, version: r.version, outputs });
    } catch (err) {
      if (err instanceof ModelError) {
        next(err.code === 'MODEL_INPUT_INVALID' ? new ApiError('INVALID_PARAMETER', err.message) : err.code === 'MODEL_NOT_FOUND' ? new ApiError('NOT_FOUND', err.message) : new ApiError('INTERNAL', err.message));
        return;
      }
      next(err);
    }
  });

  // A body that is not JSON (or too large) is the client's error, not an internal one.
  router.use((err: unknown, _req: Request, _res: Response, next: NextFunction) => {
    const e = err as { type?: string; message?: string };
    if (e && (e.type === 'entity.parse.failed' || e.type === 'entity.too.large' || e.type === 'encoding.unsupported')) {
      next(new ApiError('INVALID_PARAMETER', `Unreadable request body: ${e.message ?? e.type}.`));
      return;
    }
    next(err);
  });
  return router;
}
