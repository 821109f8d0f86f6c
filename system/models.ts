/** The model registry a process opens: the configured folder (default: the artifacts shipped with the code). */
import { fileURLToPath } from 'node:url';
import type { Config } from '../infra/config.ts';
import type { Logger } from '../infra/log.ts';
import { createOnnxSmoother, ModelRegistry, type NextHourSmoother } from '../models/index.ts';

export const SHIPPED_MODELS_DIR = fileURLToPath(new URL('../models/artifacts/', import.meta.url));

export function openModelRegistry(config: Config, log: Logger): Promise<ModelRegistry> {
  return ModelRegistry.open(config.models.dir ?? SHIPPED_MODELS_DIR, {
    pollMs: config.models.pollMs,
    ...(config.models.threads !== null ? { intraOpThreads: config.models.threads } : {}),
    expected: config.models.smoother ? [config.models.smoother] : [],
    log: log.child({ component: 'models' }),
  });
}

/** Why the models make the service degraded, or null when they do not. */
export function modelsDegraded(registry: ModelRegistry): string | null {
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
