/**
 * The batch's blobs: Arrow IPC bodies keyed by window, kind and shard (super-observations and QC
 * flags of a map task, sensor records and cell filter states carried to the next window).
 */
import type { Queryable } from './store.ts';

export interface Blob {
  windowEndMs: number;
  kind: string;
  shard: string;
  body: Uint8Array;
}

export async function putBlobs(q: Queryable, blobs: readonly Blob[]): Promise<void> {
  for (const b of blobs) {
    await q.query(
      `INSERT INTO batch_blobs (window_end, kind, shard, body) VALUES ($1, $2, $3, $4)
       ON CONFLICT (window_end, kind, shard) DO UPDATE SET body = EXCLUDED.body`,
      [new Date(b.windowEndMs), b.kind, b.shard, b.body],
    );
  }
}

/** The window's blobs of `kind` for these shards (all shards when omitted), in shard order. */
export async function getBlobs(q: Queryable, windowEndMs: number, kind: string, shards?: readonly string[]): Promise<Blob[]> {
  const res = shards
    ? await q.query<{ shard: string; body: Uint8Array }>(`SELECT shard, body FROM batch_blobs WHERE window_end = $1 AND kind = $2 AND shard = ANY($3::text[]) ORDER BY shard`, [new Date(windowEndMs), kind, [...shards]])
    : await q.query<{ shard: string; body: Uint8Array }>(`SELECT shard, body FROM batch_blobs WHERE window_end = $1 AND kind = $2 ORDER BY shard`, [new Date(windowEndMs), kind]);
  return res.rows.map((r) => ({ windowEndMs, kind, shard: r.shard, body: new Uint8Array(r.body) }));
}

/** One shard's blobs of `kind` for the windows ending after `sinceMs`, oldest first. */
export async function shardBlobsSince(q: Queryable, kind: string, shard: string, sinceMs: number): Promise<Blob[]> {
  const res = await q.query<{ window_end: Date; body: Uint8Array }>(
    `SELECT window_end, body FROM batch_blobs WHERE kind = $1 AND shard = $2 AND window_end > $3 ORDER BY window_end`,
    [kind, shard, new Date(sinceMs)],
  );
  return res.rows.map((r) => ({ windowEndMs: r.window_end.getTime(), kind, shard, body: new Uint8Array(r.body) }));
}

/** One shard's newest blob of `kind` (the state the newest window left), or null. */
export async function newestShardBlob(q: Queryable, kind: string, shard: string): Promise<Blob | null> {
  const res = await q.query<{ window_end: Date; body: Uint8Array }>(
    `SELECT window_end, body FROM batch_blobs WHERE kind = $1 AND shard = $2 ORDER BY window_end DESC LIMIT 1`,
    [kind, shard],
  );
  const r = res.rows[0];
  return r ? { windowEndMs: r.window_end.getTime(), kind, shard, body: new Uint8Array(r.body) } : null;
}

export async function deleteBlobsBefore(q: Queryable, beforeMs: number, kinds?: readonly string[]): Promise<void> {
  if (kinds) await q.query(`DELETE FROM batch_blobs WHERE window_end < $1 AND kind = ANY($2::text[])`, [new Date(beforeMs), [...kinds]]);
  else await q.query(`DELETE FROM batch_blobs WHERE window_end < $1`, [new Date(beforeMs)]);
}
