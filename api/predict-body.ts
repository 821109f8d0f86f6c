/**
 * The predict route's body, both ways, as pure functions (the HTTP thread and the model thread share
 * them): the request's JSON bytes → named float32 tensors, checked for shape against nothing but
 * themselves (the card's check is the registry's); the outputs → the answer's JSON text; and any
 * failure on the way → the catalogue error the route answers with.
 * Tensors are float32, row-major; `null` in data is a missing value (NaN) and comes back as null.
 */
import { z } from 'zod';
import { ModelError, type Tensor32 } from '../models/index.ts';
import { ApiError } from './errors.ts';

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

export const predictResponseSchema = z.object({
  model: z.string(),
  version: z.string(),
  outputs: z.record(z.string(), z.object({ dims: z.array(z.number().int()), data: z.array(z.number().nullable()) })),
});

const EXPECTED = 'Expected { "inputs": { "<name>": { "dims": [..], "data": [..] } } }.';

/** The request body (UTF-8 JSON) as named float32 tensors; an ApiError (INVALID_PARAMETER) says what is wrong. */
export function decodePredictBody(body: Uint8Array | string): Record<string, Tensor32> {
  let json: unknown;
  try {
    json = JSON.parse(typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (err) {
    throw new ApiError('INVALID_PARAMETER', `Unreadable request body: ${(err as Error).message}.`);
  }
  const parsed = predictRequestSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new ApiError('INVALID_PARAMETER', `Invalid request body at ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}. ${EXPECTED}`);
  }
  let total = 0;
  const feeds: Record<string, Tensor32> = {};
  for (const [k, t] of Object.entries(parsed.data.inputs)) {
    total += t.data.length;
    if (total > PREDICT_MAX_VALUES) throw new ApiError('INVALID_PARAMETER', `Too many values: at most ${PREDICT_MAX_VALUES} per request.`);
    feeds[k] = { dims: t.dims, data: Float32Array.from(t.data, (v) => (v === null ? NaN : v)) };
  }
  return feeds;
}

/** The answer's JSON text: the outputs with every value that is not finite as null. */
export function encodePredictAnswer(model: string, version: string, outputs: Record<string, Tensor32>): string {
  const out: Record<string, { dims: number[]; data: (number | null)[] }> = {};
  for (const [k, t] of Object.entries(outputs)) out[k] = { dims: t.dims, data: Array.from(t.data, (v) => (Number.isFinite(v) ? v : null)) };
  return JSON.stringify({ model, version, outputs: out });
}

/** A failure of decoding or running as the error the route answers with (a model's own failure is INTERNAL). */
export function predictApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (err instanceof ModelError) {
    if (err.code === 'MODEL_INPUT_INVALID') return new ApiError('INVALID_PARAMETER', err.message);
    if (err.code === 'MODEL_NOT_FOUND') return new ApiError('NOT_FOUND', err.message);
    return new ApiError('INTERNAL', err.message);
  }
  return undefined;
}
