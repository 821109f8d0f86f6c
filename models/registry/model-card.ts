/**
 * A model card: what a served model takes and returns, how it was made, how good it is. Stored as
 * `<name>.card.json` beside `<name>.onnx`; the registry checks the card's sha256 against the file.
 * Only the fields below are required; the rest (training data and period, normalisation, metrics)
 * is documentation served as is.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

export const MODEL_NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const tensorSpecSchema = z.object({
  name: z.string().min(1),
  /** Fixed sizes, or a symbolic name (e.g. "N") for a free dimension. */
  dims: z.array(z.union([z.number().int().positive(), z.string().min(1)])).min(1),
  type: z.literal('float32'),
  description: z.string().optional(),
});

export const modelCardSchema = z.object({
  name: z.string().regex(MODEL_NAME_RE),
  version: z.string().min(1).max(64),
  description: z.string(),
  file: z.string().regex(/^[A-Za-z0-9._-]+\.onnx$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  inputs: z.array(tensorSpecSchema).min(1),
  outputs: z.array(tensorSpecSchema).min(1),
}).passthrough();

export type TensorSpec = z.infer<typeof tensorSpecSchema>;
export type ModelCard = z.infer<typeof modelCardSchema>;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
