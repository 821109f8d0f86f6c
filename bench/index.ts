/** The benchmarks `npm run bench -- <name>` knows. */
import type { Benchmark } from './benchmark.ts';
import { batchBenchmark, pipelineBenchmark } from './pipeline.ts';
import { startupBenchmark } from './startup.ts';
import { storeBenchmark } from './store.ts';
import { apiBenchmark } from './api.ts';
import { modelsBenchmark } from './models.ts';
import { ingestBenchmark } from './ingest.ts';
import { ingestInsertBenchmark } from './ingest-insert.ts';
import { soakBenchmark } from './soak.ts';
import { httpStallsBenchmark } from './http-stalls.ts';

export const benchmarks: Record<string, Benchmark> = {
  store: storeBenchmark,
  batch: batchBenchmark,
  pipeline: pipelineBenchmark,
  startup: startupBenchmark,
  api: apiBenchmark,
  models: modelsBenchmark,
  ingest: ingestBenchmark,
  'ingest-insert': ingestInsertBenchmark,
  soak: soakBenchmark,
  'http-stalls': httpStallsBenchmark,
};
