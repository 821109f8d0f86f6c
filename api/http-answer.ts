/**
 * What a handler answers, independent of Express: status, headers, body. The hot routes are served
 * by the fast path (fast-path.ts) and by Express alike from the same answer functions.
 */
import type { ServerResponse } from 'node:http';
import { gzip } from 'node:zlib';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** Bodies at least this large are compressed when the client accepts gzip [bytes]. */
export const COMPRESS_MIN_BYTES = 1024;

function compressible(type: string | undefined): boolean {
  return !!type && /json|text|javascript|xml/.test(type);
}

/** Writes an answer; gzip (on the thread pool) when accepted, compressible and large enough. */
export function writeAnswer(res: ServerResponse, a: HttpAnswer, acceptEncoding: string | undefined): void {
  for (const [k, v] of Object.entries(a.headers)) res.setHeader(k, v);
  const buf = typeof a.body === 'string' ? Buffer.from(a.body) : a.body;
  if (buf.length >= COMPRESS_MIN_BYTES && compressible(a.headers['Content-Type']) && acceptEncoding && /\bgzip\b/.test(acceptEncoding)) {
    gzip(buf, (err, z) => {
      if (err) {
        res.statusCode = a.status;
        res.setHeader('Content-Length', buf.length);
        res.end(buf);
        return;
      }
      res.statusCode = a.status;
      res.setHeader('Content-Encoding', 'gzip');
      res.setHeader('Vary', 'Accept-Encoding');
      res.setHeader('Content-Length', z.length);
      res.end(z);
    });
    return;
  }
  res.statusCode = a.status;
  if (a.status === 304) {
    res.end();
    return;
  }
  res.setHeader('Content-Length', buf.length);
  res.end(buf);
}
