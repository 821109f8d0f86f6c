/**
 * Roles as separate processes for tests: `node --import tsx system/main.ts` with ROLE and the given
 * environment, output collected, stopped with SIGTERM (or SIGKILL when a test gives up).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface RoleProcess {
  role: string;
  child: ChildProcess;
  /** stdout and stderr, interleaved as they came. */
  readonly output: string;
  /** Exit code once it exited, else null. */
  readonly exitCode: number | null;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** SIGTERM and wait for the exit; the code it exited with. */
  stop(): Promise<number | null>;
  /** SIGKILL if still running (for cleanup). */
  kill(): Promise<void>;
}

export function startRole(role: string, env: Record<string, string | undefined>): RoleProcess {
  return startCommand(role, [process.execPath, '--import', 'tsx', 'system/main.ts'], { ...process.env, ...env, ROLE: role });
}

/**
 * A process of the product started as a service manager would: `argv` in the checkout, with exactly
 * `env` (nothing inherited). `role` labels it in messages.
 */
export function startCommand(role: string, argv: readonly string[], env: Record<string, string | undefined>): RoleProcess {
  const child = spawn(argv[0]!, argv.slice(1), { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    role,
    child,
    get output() {
      return output;
    },
    get exitCode() {
      return child.exitCode;
    },
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** The last `chars` characters of each process's output, for assertion messages. */
export function tails(procs: readonly RoleProcess[], chars = 1500): string {
  return procs.map((p) => `--- ${p.role} (exit ${p.exitCode}):\n${p.output.slice(-chars)}`).join('\n');
}

/** pino lines at level error (50) or fatal (60) in a process's output. */
export function errorLines(p: RoleProcess): string[] {
  return p.output.split('\n').filter((l) => /^\{.*"level":(50|60)[,}]/.test(l));
}

/** Polls `probe` until it returns a value (not undefined) or the deadline passes; fails fast if a process died. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, o: { timeoutMs: number; procs?: readonly RoleProcess[]; everyMs?: number }): Promise<T> {
  const deadline = Date.now() + o.timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const dead = o.procs?.find((p) => p.exitCode !== null || p.child.signalCode !== null);
    if (dead) throw new Error(`${dead.role} exited (code ${dead.exitCode}, signal ${dead.child.signalCode}) while waiting for ${what}\n${tails(o.procs ?? [])}`);
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, o.everyMs ?? 500));
  }
  throw new Error(`no ${what} within ${o.timeoutMs} ms${last ? ` (last error: ${last instanceof Error ? last.message : String(last)})` : ''}\n${tails(o.procs ?? [])}`);
}
