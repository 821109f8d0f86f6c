/** The model registry a process opens: the configured folder (default: the artifacts shipped with the code). */
import { fileURLToPath } from 'node:url';
import type { Config } from '../infra/config.ts';
import type { Logger } from '../infra/log.ts';
import { ModelRegistry } from '../models/index.ts';

export const SHIPPED_MODELS_DIR = fileURLToPath(new URL('../models/artifacts/', import.meta.url));

export function openModelRegistry(config: Config, log: Logger): Promise<ModelRegistry> {
  return ModelRegistry.open(config.models.dir ?? SHIPPED_MODELS_DIR, {
    pollMs: config.models.pollMs,
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
