/** What every benchmark module exports: figures named with their units (`rowsPerS`, `elapsedMs`). */
export interface BenchmarkContext {
  /** Arguments after the benchmark's name, --json removed. */
  args: string[];
  /** Progress for long runs (stderr). */
  progress: (message: string) => void;
}

export interface Benchmark {
  description: string;
  run(ctx: BenchmarkContext): Promise<Record<string, unknown>>;
}

/** A store URL for output: the password of a postgres:// URL replaced by ***. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
