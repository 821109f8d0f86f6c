/**
 * The model registry of a process: every `<name>.card.json` + `<name>.onnx` pair in a folder,
 * one onnxruntime-node session per model, hot reload without a restart and without a failed
 * request, and health for /healthz.
 *
 * Reload: the folder is polled (file size and mtime, cheap); a changed pair is read whole, its
 * sha256 checked against its card, and a new session created beside the serving one. Only then is
 * it swapped in; the old session is released once the requests that hold it have finished. A pair
 * caught half-written (checksum mismatch) is retried on the next poll; one that stays broken, or
 * fails to load, leaves the previous version serving and marks the registry degraded.
 *
 * Failure semantics: `run` rejects with a ModelError (MODEL_NOT_FOUND, MODEL_INPUT_INVALID,
 * MODEL_FAILED); a failed run marks the model failing (degraded) until a run succeeds.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { Logger } from '../../infra/log.ts';
import { modelCardSchema, sha256Hex, type ModelCard, type TensorSpec } from './model-card.ts';

export const MODEL_ERROR_CODES = ['MODEL_NOT_FOUND', 'MODEL_INPUT_INVALID', 'MODEL_FAILED'] as const;
export type ModelErrorCode = (typeof MODEL_ERROR_CODES)[number];

export class ModelError extends Error {
  override name = 'ModelError';
  constructor(readonly code: ModelErrorCode, message: string) {
    super(message);
  }
}

export interface Tensor32 {
  dims: number[];
  data: Float32Array;
}

export type ModelStatus = 'ok' | 'missing' | 'failing';

export interface ModelHealth {
  name: string;
  status: ModelStatus;
  version?: string;
  loadedAt?: string;
  /** The last error of a run or a reload, kept until the next success. */
  error?: string;
  failures: number;
}

export interface RegistryHealth {
  status: 'ok' | 'degraded';
  models: ModelHealth[];
}

export interface RegistryOptions {
  log?: Logger;
  /** Poll the folder for changed artifacts every this many ms; 0: no hot reload. */
  pollMs?: number;
  /** Models that must be present; a missing one makes the registry degraded. */
  expected?: readonly string[];
  /**
   * onnxruntime intra-op threads per session (default: the machine's cores; 0: onnxruntime's own choice).
   * onnxruntime-node runs a session on the calling thread (run() is synchronous under its promise), so
   * runs never overlap and these threads are the only parallelism a run gets.
   */
  intraOpThreads?: number;
  /** Called after every scan of the folder and every run, when what list() or health() say may have changed. */
  onChange?: () => void;
}

interface Entry {
  card: ModelCard;
  session: ort.InferenceSession;
  loadedAtMs: number;
  /** Runs in flight on this session. */
  inFlight: number;
  retired: boolean;
}

interface Slot {
  name: string;
  entry?: Entry;
  /** Stamp (size and mtime of card and model) of the serving pair and of the last one tried. */
  servingStamp?: string;
  triedStamp?: string;
  mismatches: number;
  runError?: string;
  reloadError?: string;
  failures: number;
}

function stampOf(dir: string, card: string, file: string): string | undefined {
  try {
    const a = statSync(join(dir, card)), b = statSync(join(dir, file));
    return `${a.size}:${a.mtimeMs}|${b.size}:${b.mtimeMs}`;
  } catch {
    return undefined;
  }
}

/** Shape and type of each feed against the card: every input present, no unknown one, dims match. */
export function checkFeeds(card: ModelCard, feeds: Record<string, Tensor32>): void {
  const bound = new Map<string, number>();
  for (const name of Object.keys(feeds)) if (!card.inputs.some((i) => i.name === name)) throw new ModelError('MODEL_INPUT_INVALID', `model ${card.name} has no input "${name}" (inputs: ${card.inputs.map((i) => i.name).join(', ')})`);
  for (const spec of card.inputs) {
    const t = feeds[spec.name];
    if (!t) throw new ModelError('MODEL_INPUT_INVALID', `input "${spec.name}" is missing (${describe(spec)})`);
    if (!(t.data instanceof Float32Array)) throw new ModelError('MODEL_INPUT_INVALID', `input "${spec.name}" must be float32`);
    if (t.dims.length !== spec.dims.length) throw new ModelError('MODEL_INPUT_INVALID', `input "${spec.name}" has ${t.dims.length} dimensions [${t.dims.join(', ')}], the model takes ${spec.dims.length} (${describe(spec)})`);
    let size = 1;
    spec.dims.forEach((d, k) => {
      const got = t.dims[k]!;
      if (!Number.isInteger(got) || got < 0) throw new ModelError('MODEL_INPUT_INVALID', `input "${spec.name}" dimension ${k} is ${got}, not a size`);
      if (typeof d === 'number' && got !== d) throw new ModelError('MODEL_INPUT_INVALID', `input "${spec.name}" dimension ${k} is ${got}, the model takes ${d} (${describe(spec)})`);
      if (typeof d === 'string') {
        const b = bound.get(d);
        if (b !== undefined && b !== got) throw new ModelError('MODEL_INPUT_INVALID', `input "${spec.name}" dimension ${k} (${d}) is ${got}, but ${d} is ${b} in another input`);
        bound.set(d, got);
      }
      size *= got;
    });
    if (t.data.length !== size) throw new ModelError('MODEL_INPUT_INVALID', `input "${spec.name}" has ${t.data.length} values, its dimensions [${t.dims.join(', ')}] make ${size}`);
  }
}

function describe(spec: TensorSpec): string {
  return `${spec.type} [${spec.dims.join(', ')}]`;
}

export class ModelRegistry {
  private readonly slots = new Map<string, Slot>();
  private timer?: NodeJS.Timeout;
  private scanning?: Promise<void>;
  private closed = false;
  readonly dir: string;

  private constructor(dir: string, private readonly o: RegistryOptions) {
    this.dir = resolve(dir);
    for (const name of o.expected ?? []) this.slots.set(name, { name, mismatches: 0, failures: 0 });
  }

  /** Loads every model in `dir` (a missing folder is an empty registry) and starts polling. */
  static async open(dir: string, o: RegistryOptions = {}): Promise<ModelRegistry> {
    const r = new ModelRegistry(dir, o);
    await r.scan();
    if ((o.pollMs ?? 0) > 0) {
      const tick = () => {
        if (r.closed) return;
        r.scan().catch((err: unknown) => o.log?.error({ err }, 'model registry scan failed')).finally(() => {
          if (!r.closed) r.timer = setTimeout(tick, o.pollMs).unref();
        });
      };
      r.timer = setTimeout(tick, o.pollMs).unref();
    }
    return r;
  }

  /** Reads the folder now: loads new and changed pairs (also what the poll does). */
  scan(): Promise<void> {
    if (this.scanning) return this.scanning;
    this.scanning = this.scanOnce().finally(() => {
      this.scanning = undefined;
      this.o.onChange?.();
    });
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    const cards = existsSync(this.dir) ? readdirSync(this.dir).filter((n) => n.endsWith('.card.json')).sort() : [];
    for (const cardName of cards) {
      const name = cardName.slice(0, -'.card.json'.length);
      const slot = this.slots.get(name) ?? { name, mismatches: 0, failures: 0 };
      this.slots.set(name, slot);
      let card: ModelCard;
      try {
        card = modelCardSchema.parse(JSON.parse(readFileSync(join(this.dir, cardName), 'utf8')));
        if (card.name !== name) throw new Error(`card ${cardName} names the model "${card.name}"`);
      } catch (err) {
        this.reloadFailed(slot, `unreadable card ${cardName}: ${(err as Error).message}`);
        continue;
      }
      const stamp = stampOf(this.dir, cardName, card.file);
      if (stamp === undefined) { this.reloadFailed(slot, `${card.file} named by ${cardName} is missing`); continue; }
      if (stamp === slot.servingStamp || stamp === slot.triedStamp) continue;
      const bytes = new Uint8Array(readFileSync(join(this.dir, card.file)));
      if (sha256Hex(bytes) !== card.sha256) {
        // probably caught between writing the model and its card: try again next time
        if (++slot.mismatches >= 5) { slot.triedStamp = stamp; this.reloadFailed(slot, `${card.file} does not match the sha256 of ${cardName}`); }
        continue;
      }
      slot.mismatches = 0;
      slot.triedStamp = stamp;
      let session: ort.InferenceSession;
      try {
        session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: this.o.intraOpThreads ?? availableParallelism(), graphOptimizationLevel: 'all' });
        const missing = card.inputs.filter((i) => !session.inputNames.includes(i.name)).map((i) => i.name);
        if (missing.length > 0) { await session.release(); throw new Error(`the model has no input ${missing.join(', ')} named by its card`); }
      } catch (err) {
        this.reloadFailed(slot, `cannot load ${card.file}: ${(err as Error).message}`);
        continue;
      }
      const old = slot.entry;
      slot.entry = { card, session, loadedAtMs: Date.now(), inFlight: 0, retired: false };
      slot.servingStamp = stamp;
      slot.reloadError = undefined;
      this.o.log?.info({ model: name, version: card.version, previous: old?.card.version }, old ? 'model reloaded' : 'model loaded');
      if (old) this.retire(old);
    }
  }

  private reloadFailed(slot: Slot, message: string): void {
    if (slot.reloadError !== message) this.o.log?.error({ model: slot.name, reason: message }, 'model not loaded');
    slot.reloadError = message;
  }

  private retire(e: Entry): void {
    e.retired = true;
    if (e.inFlight === 0) void e.session.release().catch(() => undefined);
  }

  /** The models with a card, serving or not. */
  list(): { name: string; version?: string; status: ModelStatus; card?: ModelCard }[] {
    return [...this.slots.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((s) => ({
      name: s.name, status: this.statusOf(s), ...(s.entry ? { version: s.entry.card.version, card: s.entry.card } : {}),
    }));
  }

  card(name: string): ModelCard | undefined {
    return this.slots.get(name)?.entry?.card;
  }

  version(name: string): string | undefined {
    return this.card(name)?.version;
  }

  private statusOf(s: Slot): ModelStatus {
    if (!s.entry) return 'missing';
    if (s.runError !== undefined || s.reloadError !== undefined) return 'failing';
    return 'ok';
  }

  health(): RegistryHealth {
    const models = [...this.slots.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((s): ModelHealth => ({
      name: s.name,
      status: this.statusOf(s),
      ...(s.entry ? { version: s.entry.card.version, loadedAt: new Date(s.entry.loadedAtMs).toISOString() } : {}),
      ...(s.runError ?? s.reloadError ? { error: s.runError ?? s.reloadError } : {}),
      failures: s.failures,
    }));
    return { status: models.every((m) => m.status === 'ok') ? 'ok' : 'degraded', models };
  }

  /** Runs a model on named float32 tensors; rejects with a ModelError. */
  async run(name: string, feeds: Record<string, Tensor32>): Promise<{ version: string; outputs: Record<string, Tensor32> }> {
    const slot = this.slots.get(name);
    const e = slot?.entry;
    if (!slot || !e) throw new ModelError('MODEL_NOT_FOUND', `no model "${name}"${slot?.reloadError ? ` (${slot.reloadError})` : ''}`);
    checkFeeds(e.card, feeds);
    e.inFlight++;
    try {
      const input: Record<string, ort.Tensor> = {};
      for (const [k, t] of Object.entries(feeds)) input[k] = new ort.Tensor('float32', t.data, t.dims);
      const out = await e.session.run(input);
      const outputs: Record<string, Tensor32> = {};
      for (const spec of e.card.outputs) {
        const t = out[spec.name];
        if (!t) throw new Error(`the model returned no "${spec.name}"`);
        outputs[spec.name] = { dims: t.dims.map(Number), data: t.data as Float32Array };
      }
      if (slot.runError !== undefined && slot.entry === e) slot.runError = undefined;
      return { version: e.card.version, outputs };
    } catch (err) {
      if (err instanceof ModelError) throw err;
      slot.failures++;
      slot.runError = (err as Error).message;
      this.o.log?.error({ model: name, err }, 'model run failed');
      throw new ModelError('MODEL_FAILED', `model ${name} failed: ${(err as Error).message}`);
    } finally {
      e.inFlight--;
      if (e.retired && e.inFlight === 0) void e.session.release().catch(() => undefined);
      this.o.onChange?.();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.scanning;
    for (const s of this.slots.values()) if (s.entry) { this.retire(s.entry); s.entry = undefined; }
  }
}
