/** The benchmarks `npm run bench -- <name>` knows. */
import type { Benchmark } from './benchmark.ts';

export const benchmarks: Record<string, Benchmark> = {};
