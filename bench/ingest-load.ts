/**
 * The load generator of `bench ingest --http`: LOAD_STATIONS (JSON [{id, key}]) upload concurrently
 * to LOAD_URL. LOAD_MODE `wu` (GET updateweatherstation.php, one reading) or `json`
 * (POST /v1/readings, LOAD_PER_UPLOAD readings). Every reading has its own time.
 *
 * First every station sends one upload (the warm-up: the server verifies each key once with scrypt,
 * ~0.1 s of CPU, then remembers it for an hour) and the generator prints `{"phase":"timed"}`; then
 * each station sends its next upload when the previous one is answered, until LOAD_UPLOADS uploads
 * of the timed phase were sent. Last line: ok, failed, retries (connections reset and retried),
 * seconds and cpu_seconds of the timed phase, warmup_seconds, statuses.
 *
 * The client is node:http with a keep-alive agent (a connection per station): it costs the shared
 * machine less CPU per request than fetch, and the server under test is what is measured.
 */
import http from 'node:http';

const url = new URL(process.env.LOAD_URL!);
const mode = process.env.LOAD_MODE as 'wu' | 'json';
const total = Number(process.env.LOAD_UPLOADS);
const perUpload = Number(process.env.LOAD_PER_UPLOAD ?? 1);
const stations = JSON.parse(process.env.LOAD_STATIONS!) as { id: string; key: string }[];

const agent = new http.Agent({ keepAlive: true, maxSockets: stations.length, keepAliveMsecs: 10_000 });
const baseMs = Math.floor(Date.now() / 1000) * 1000 - 20 * 86_400_000;
const wuDate = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
let sent = 0;
let ok = 0;
let failed = 0;
let retries = 0;
const statuses: Record<string, number> = {};

function request(path: string, method: 'GET' | 'POST', headers: Record<string, string>, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path, method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent }, (res) => {
      res.resume(); // the body is read and dropped
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(body);
  });
}

/** A request; a connection reset (a keep-alive race with the server) is retried, as clients do. */
async function send(path: string, method: 'GET' | 'POST', headers: Record<string, string>, body?: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request(path, method, headers, body);
    } catch (err) {
      if (attempt >= 5) throw err;
      retries++;
    }
  }
}

/** Upload number `k` of station `s`; counted into the totals when `counted`. */
async function upload(s: { id: string; key: string }, k: number, counted: boolean): Promise<void> {
  let status: number;
  if (mode === 'wu') {
    const q = new URLSearchParams({ ID: s.id, PASSWORD: s.key, dateutc: wuDate(baseMs + k * 1000), tempf: String(40 + (k % 30)), humidity: '70', baromin: '29.9', action: 'updateraw', softwaretype: 'bench' });
    status = await send(`/weatherstation/updateweatherstation.php?${q}`, 'GET', {});
  } else {
    const readings = Array.from({ length: perUpload }, (_, j) => ({ time: new Date(baseMs + (k * perUpload + j) * 1000).toISOString(), temperature_2m: 5 + (j % 20) / 10 }));
    status = await send('/v1/readings', 'POST', { 'content-type': 'application/json', authorization: `Bearer ${s.key}` }, JSON.stringify({ readings }));
  }
  if (!counted) {
    if (status !== 200 && status !== 202) throw new Error(`warm-up upload of ${s.id} answered ${status}`);
    return;
  }
  statuses[status] = (statuses[status] ?? 0) + 1;
  if (status === 200 || status === 202) ok++;
  else failed++;
}

async function station(s: { id: string; key: string }): Promise<void> {
  for (let k = 1; ; k++) {
    if (sent >= total) return;
    sent++;
    await upload(s, k, true);
  }
}

const w0 = performance.now();
await Promise.all(stations.map((s) => upload(s, 0, false)));
const warmupSeconds = (performance.now() - w0) / 1000;
process.stdout.write(`${JSON.stringify({ phase: 'timed' })}\n`);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
await Promise.all(stations.map(station));
const cpu = process.cpuUsage(cpu0);
agent.destroy();
process.stdout.write(`${JSON.stringify({ ok, failed, retries, seconds: (performance.now() - t0) / 1000, cpu_seconds: (cpu.user + cpu.system) / 1e6, warmup_seconds: warmupSeconds, statuses })}\n`);
