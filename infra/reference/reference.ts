/**
 * The reference implementations (MET Norway's titanlib and gridpp, from PyPI) as a function call:
 * cases go to `driver.py` as JSON on stdin, results come back as JSON on stdout. The Python venv is
 * made by `venv.sh` (outside the checkout, pinned versions) when missing. For the reference tests and
 * the QC comparison only: nothing of the product imports this.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = fileURLToPath(new URL('.', import.meta.url));
const VENV_SCRIPT = join(here, 'venv.sh');
const DRIVER = join(here, 'driver.py');

export type ReferenceErrorCode = 'NO_PYTHON' | 'VENV_FAILED' | 'DRIVER_FAILED';

export class ReferenceError extends Error {
  constructor(readonly code: ReferenceErrorCode, message: string) {
    super(message);
    this.name = 'ReferenceError';
  }
}

/** Points on a plane [m] (Cartesian), or on the sphere [degrees] (geodetic); elevations [m], null unknown. */
export type ReferencePoints = { x: number[]; y: number[]; z: (number | null)[] } | { lat: number[]; lon: number[]; z: (number | null)[] };

export interface BuddyCheckCase {
  op: 'buddy_check';
  points: ReferencePoints;
  values: number[];
  radius: number;
  num_min: number;
  threshold: number;
  max_elev_diff: number;
  elev_gradient: number;
  min_std: number;
  num_iterations: number;
}

export interface SctCase {
  op: 'sct';
  /** titanlib's sct works on the sphere only (its box search ignores a Cartesian coordinate type). */
  points: { lat: number[]; lon: number[]; z: (number | null)[] };
  values: number[];
  num_min: number;
  num_max: number;
  inner_radius: number;
  outer_radius: number;
  num_iterations: number;
  /** < 0: the box mean is the background (no vertical profile). */
  num_min_prof: number;
  min_elev_diff: number;
  min_horizontal_scale: number;
  vertical_scale: number;
  pos: number | number[];
  neg: number | number[];
  eps2: number | number[];
}

export interface OiCase {
  op: 'oi';
  targets: { x: number[]; y: number[]; z: (number | null)[] };
  obs: { x: number[]; y: number[]; z: (number | null)[]; innovation: number[]; ratio: number[] };
  /** Barnes structure: horizontal and vertical length scales and localisation distance [m]. */
  h: number;
  v: number;
  localization: number;
  /** 0: no limit (gridpp's convention). */
  max_points: number;
  allow_extrapolation: boolean;
}

export type ReferenceCase = BuddyCheckCase | SctCase | OiCase;

export interface BuddyCheckResult { flags: number[]; seconds: number }
export interface SctResultRef { flags: number[]; /** titanlib's prob_gross_error: the largest score over iterations (0 never tested). */ score: (number | null)[]; seconds: number }
export interface OiResultRef { increment: (number | null)[]; increment_full: (number | null)[]; variance_ratio: (number | null)[]; seconds: number }

type ResultOf<C> = C extends BuddyCheckCase ? BuddyCheckResult : C extends SctCase ? SctResultRef : C extends OiCase ? OiResultRef : never;

export interface ReferenceVersions { titanlib: string; gridpp: string; threads: number }

/** A JSON array of numbers with NaN written as null (JSON has no NaN). */
export function jsonNumbers(values: ArrayLike<number>): (number | null)[] {
  return Array.from(values, (v) => (Number.isFinite(v) ? v : null));
}

const onPath = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

let venvPython: Promise<string> | undefined;

/** The venv's python, making the venv first when missing (one pip install per machine and set of pins). */
export function referencePython(): Promise<string> {
  venvPython ??= (async () => {
    if (!onPath('python3')) throw new ReferenceError('NO_PYTHON', 'python3 is not on PATH, so infra/reference/venv.sh cannot make the venv of titanlib and gridpp');
    try {
      const { stdout } = await promisify(execFile)('bash', [VENV_SCRIPT], { timeout: 600_000, maxBuffer: 16 << 20 });
      const python = stdout.trim().split('\n').pop() ?? '';
      if (!python) throw new Error('venv.sh printed no python path');
      return python;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      const tail = (e.stderr ?? e.message).trim().split('\n').slice(-3).join(' | ');
      throw new ReferenceError('VENV_FAILED', `infra/reference/venv.sh could not make the venv of titanlib and gridpp: ${tail}`);
    }
  })();
  return venvPython;
}

/**
 * For tests: the venv's python, or a reason to skip where it cannot be made (no python3, no pip or
 * no network to PyPI). Under CI=true that is a failure instead.
 */
export async function referencePythonForTests(): Promise<string | { skip: string }> {
  try {
    return await referencePython();
  } catch (err) {
    if (!(err instanceof ReferenceError)) throw err;
    if (process.env.CI === 'true') throw new Error(`${err.message} (CI=true: missing reference tools are a failure)`);
    return { skip: err.message };
  }
}

/** Runs the cases through the reference implementations, in order, in one Python process. */
export async function runReference<const C extends readonly ReferenceCase[]>(python: string, cases: C, o: { threads?: number } = {}): Promise<{ versions: ReferenceVersions; results: { [K in keyof C]: ResultOf<C[K]> } }> {
  const child = spawn(python, [DRIVER], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [], stderr: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => stdout.push(b));
  child.stderr.on('data', (b: Buffer) => stderr.push(b));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  child.stdin.on('error', () => {}); // a driver that dies early is reported by its exit code below
  child.stdin.end(JSON.stringify({ threads: o.threads ?? 1, cases }));
  const code = await exited;
  if (code !== 0) throw new ReferenceError('DRIVER_FAILED', `infra/reference/driver.py exited with ${code}: ${Buffer.concat(stderr).toString().trim().split('\n').slice(-5).join(' | ')}`);
  return JSON.parse(Buffer.concat(stdout).toString());
}
