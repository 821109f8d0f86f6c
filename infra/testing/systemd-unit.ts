/**
 * What the tests need of systemd's unit files to run a unit's command as systemd would: the
 * sections' assignments, the instance specifiers (%i, %I, %%), `Environment=` (space-separated,
 * double-quoted assignments) and `EnvironmentFile=` contents, `ExecStart=` split into words, and
 * time spans such as `TimeoutStopSec=90`. Only the syntax these units use; not a general parser.
 */

/** Section → key → every value assigned, in order (comments and blank lines dropped). */
export type Unit = Map<string, Map<string, string[]>>;

export function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const head = /^\[([^\]]+)\]$/.exec(line);
    if (head) {
      section = unit.get(head[1]!) ?? new Map();
      unit.set(head[1]!, section);
      return;
    }
    const eq = line.indexOf('=');
    if (!section || eq <= 0) throw new Error(`line ${i + 1}: not an assignment in a section: ${line}`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  });
  return unit;
}

/** The one value of `key` in `section` (the last assignment wins), or undefined. */
export function unitValue(unit: Unit, section: string, key: string): string | undefined {
  return unit.get(section)?.get(key)?.at(-1);
}

/** `%i` and `%I` as the instance, `%%` as `%`; any other specifier is refused. */
export function expandSpecifiers(value: string, instance: string): string {
  return value.replace(/%(.)/g, (_, c: string) => {
    if (c === 'i' || c === 'I') return instance;
    if (c === '%') return '%';
    throw new Error(`specifier %${c} is not supported here`);
  });
}

/** Words separated by spaces; double quotes group (as in Environment= and ExecStart=). */
function words(value: string): string[] {
  const out: string[] = [];
  for (const m of value.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

/** The variables of every `Environment=` line of [Service], specifiers expanded. */
export function unitEnvironment(unit: Unit, instance: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of unit.get('Service')?.get('Environment') ?? []) {
    for (const w of words(expandSpecifiers(line, instance))) {
      const eq = w.indexOf('=');
      if (eq <= 0) throw new Error(`Environment= word without a name: ${w}`);
      env[w.slice(0, eq)] = w.slice(eq + 1);
    }
  }
  return env;
}

/** An EnvironmentFile's variables: `NAME=value` lines, `#` comments, optional quotes around a value. */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`not an assignment: ${line}`);
    env[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  }
  return env;
}

/** ExecStart= as argv, specifiers expanded. */
export function execStart(unit: Unit, instance: string): string[] {
  const v = unitValue(unit, 'Service', 'ExecStart');
  if (!v) throw new Error('no ExecStart=');
  return words(expandSpecifiers(v, instance));
}

/** A systemd time span in ms: a bare number of seconds, or units such as `1min 30s`, `500ms`. */
export function timeSpanMs(value: string): number {
  const scale: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 };
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  let total = 0;
  const rest = value.replace(/(\d+(?:\.\d+)?)\s*(ms|sec|s|min|m|h)\b/g, (_, n: string, u: string) => {
    total += Number(n) * scale[u]!;
    return '';
  });
  if (rest.trim() !== '') throw new Error(`not a time span: ${value}`);
  return total;
}
