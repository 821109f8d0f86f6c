/** What every evaluator module exports: figures named with their units (`rmseK`, `maeK`, `elapsedMs`). */
export interface EvaluatorContext {
  /** Arguments after the evaluator's name, --json removed. */
  args: string[];
  /** Progress for long runs (stderr). */
  progress: (message: string) => void;
}

export interface Evaluator {
  description: string;
  /** Options, one per line, for the usage message. */
  usage: string;
  run(ctx: EvaluatorContext): Promise<Record<string, unknown>>;
  /** A readable table of the figures (without --json); default: one `key: value` line each. */
  table?(result: Record<string, unknown>): string;
}

/** Bad arguments or unusable data folders: the CLI prints the message and exits with code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
