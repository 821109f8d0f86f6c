/**
 * What the model routes need from a process's models: the list, the cards, the health, and a
 * prediction from a request's raw body to the answer's JSON text. Two implementations: the registry
 * on this thread (`registryModelService`, for tools and tests), and the model thread
 * (`ModelThread`, model-thread.ts), which the API's processes use so that decoding a large body and
 * running the model never hold up the HTTP thread.
 */
import type { ModelCard, ModelRegistry, ModelStatus, RegistryHealth } from '../models/index.ts';
import { decodePredictBody, encodePredictAnswer } from './predict-body.ts';
import { ApiError } from './errors.ts';

export interface ModelSummary {
  name: string;
  version?: string;
  status: ModelStatus;
  card?: ModelCard;
}

export interface ModelService {
  list(): ModelSummary[];
  card(name: string): ModelCard | undefined;
  health(): RegistryHealth;
  /** The answer's JSON text; rejects with an ApiError (or a ModelError, mapped by predictApiError). */
  predict(name: string, body: Uint8Array): Promise<string>;
  close(): Promise<void>;
}

/** Decodes, runs and encodes one request on `registry` (the work either thread does). */
export async function predictOn(registry: ModelRegistry, name: string, body: Uint8Array): Promise<string> {
  if (!registry.card(name)) throw new ApiError('NOT_FOUND', `No model "${name}" is loaded.`);
  const r = await registry.run(name, decodePredictBody(body));
  return encodePredictAnswer(name, r.version, r.outputs);
}

/** The registry of this thread as the routes' service (its close closes the registry). */
export function registryModelService(registry: ModelRegistry): ModelService {
  return {
    list: () => registry.list(),
    card: (name) => registry.card(name),
    health: () => registry.health(),
    predict: (name, body) => predictOn(registry, name, body),
    close: () => registry.close(),
  };
}
