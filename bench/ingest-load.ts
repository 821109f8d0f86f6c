/**
 * The load generator of `bench ingest --http`: LOAD_STATIONS (JSON [{id, key}]) upload concurrently
 * to LOAD_URL, each station sending its next upload when the previous one is answered, until
 * LOAD_UPLOADS uploads were sent. LOAD_MODE `wu` (GET updateweatherstation.php, one reading) or
 * `json` (POST /v1/readings, LOAD_PER_UPLOAD readings). Every reading has its own time. Prints one
 * JSON line: ok, failed, retries (connections reset and retried), seconds, statuses.
 */
const url = process.env.LOAD_URL!;
const mode = process.env.LOAD_MODE as 'wu' | 'json';
const total = Number(process.env.LOAD_UPLOADS);
const perUpload = Number(process.env.LOAD_PER_UPLOAD ?? 1);
const stations = JSON.parse(process.env.LOAD_STATIONS!) as { id: string; key: string }[];

const baseMs = Math.floor(Date.now() / 1000) * 1000 - 20 * 86_400_000;
const wuDate = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
let sent = 0;
let ok = 0;
let failed = 0;
let retries = 0;
const statuses: Record<string, number> = {};

/** A request; a connection reset (a keep-alive race with the server) is retried, as clients do. */
async function send(input: string, init?: RequestInit): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(input, init);
    } catch (err) {
      if (attempt >= 5) throw err;
      retries++;
    }
  }
}

async function station(s: { id: string; key: string }): Promise<void> {
  for (let k = 0; ; k++) {
    if (sent >= total) return;
    sent++;
    let res: Response;
    if (mode === 'wu') {
      const q = new URLSearchParams({ ID: s.id, PASSWORD: s.key, dateutc: wuDate(baseMs + k * 1000), tempf: String(40 + (k % 30)), humidity: '70', baromin: '29.9', action: 'updateraw', softwaretype: 'bench' });
      res = await send(`${url}/weatherstation/updateweatherstation.php?${q}`);
    } else {
      const readings = Array.from({ length: perUpload }, (_, j) => ({ time: new Date(baseMs + (k * perUpload + j) * 1000).toISOString(), temperature_2m: 5 + (j % 20) / 10 }));
      res = await send(`${url}/v1/readings`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${s.key}` }, body: JSON.stringify({ readings }) });
    }
    await res.arrayBuffer();
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    if (res.status === 200 || res.status === 202) ok++;
    else failed++;
  }
}

const t0 = performance.now();
await Promise.all(stations.map(station));
process.stdout.write(`${JSON.stringify({ ok, failed, retries, seconds: (performance.now() - t0) / 1000, statuses })}\n`);
