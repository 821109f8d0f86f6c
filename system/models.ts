/** The model registry a process opens: the configured folder (default: the artifacts shipped with the code). */
import { fileURLToPath } from 'node:url';
import type { Config } from '../infra/config.ts';
import type { Logger } from '../infra/log.ts';
import { createOnnxSmoother, ModelRegistry, type NextHourSmoother, type RegistryHealth, type RegistryOptions } from '../models/index.ts';
import { ModelThread } from '../api/index.ts';

export const SHIPPED_MODELS_DIR = fileURLToPath(new URL('../models/artifacts/', import.meta.url));

function registryOptions(config: Config): RegistryOptions {
  return {
    pollMs: config.models.pollMs,
    ...(config.models.threads !== null ? { intraOpThreads: config.models.threads } : {}),
    expected: config.models.smoother ? [config.models.smoother] : [],
  };
}

export function openModelRegistry(config: Config, log: Logger): Promise<ModelRegistry> {
  return ModelRegistry.open(config.models.dir ?? SHIPPED_MODELS_DIR, { ...registryOptions(config), log: log.child({ component: 'models' }) });
}

/** The API's models: the same registry, on a thread of its own (see api/model-thread.ts). */
export function openModelThread(config: Config, log: Logger): Promise<ModelThread> {
  return ModelThread.open({ dir: config.models.dir ?? SHIPPED_MODELS_DIR, ...registryOptions(config), log: log.child({ component: 'models' }), logLevel: config.logLevel });
}

/** Why the models make the service degraded, or null when they do not. */
export function modelsDegraded(registry: { health(): RegistryHealth }): string | null {
  const h = registry.health();
  if (h.status === 'ok') return null;
  return h.models.filter((m) => m.status !== 'ok').map((m) => `model ${m.name} ${m.status}${m.error ? `: ${m.error}` : ''}`).join('; ') || 'models degraded';
}

/** The batch's smoother from this process's own registry (closed with the other stops), or none when SMOOTHER=none. */
export async function smootherFor(config: Config, log: Logger, stops: (() => Promise<void>)[]): Promise<{ smoother?: NextHourSmoother }> {
  const name = config.models.smoother;
  if (!name) return {};
  const registry = await openModelRegistry(config, log);
  stops.push(() => registry.close());
  const why = modelsDegraded(registry);
  if (why) log.warn({ role: 'pipeline', reason: why }, 'the smoother is unavailable: batches keep the filter trajectory until it loads');
  return { smoother: createOnnxSmoother(registry, name) };
}
