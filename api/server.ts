/**
 * Listening: an HTTP server for the app that fails loudly when its port is taken, and closes
 * gracefully (stops accepting, lets requests in flight finish, then cuts what is left).
 */
import { createServer, type Server } from 'node:http';
import type { RequestListener } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, errorBody } from './errors.ts';

/** Most bytes of a request's head (request line and headers): a 1,000-point forecast's URL takes ~20 KB. */
export const MAX_HEAD_BYTES = 64 * 1024;

/** How long a client may take to send a request's head, and the whole request [ms] (slow clients: 408). */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/**
 * Requests Node's parser refuses before any handler runs still get the catalogue's JSON answer:
 * a head over MAX_HEAD_BYTES is 413, a client too slow to send its request (slowloris) 408,
 * anything malformed 400.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) return void socket.destroy();
  const e = err.code === 'HPE_HEADER_OVERFLOW'
    ? new ApiError('PAYLOAD_TOO_LARGE', `The request line and headers exceed ${MAX_HEAD_BYTES} bytes; ask for fewer points per request.`)
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new ApiError('REQUEST_TIMEOUT', 'The request was not received in time (its head within the headers timeout, all of it within the request timeout).')
      : new ApiError('INVALID_PARAMETER', `The request could not be parsed (${err.code ?? 'malformed'}).`);
  const body = JSON.stringify(errorBody(e));
  const reason = e.status === 413 ? 'Payload Too Large' : e.status === 408 ? 'Request Timeout' : 'Bad Request';
  socket.end(`HTTP/1.1 ${e.status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(readonly code: 'PORT_IN_USE' | 'PORT_DENIED' | 'LISTEN_FAILED', message: string) {
    super(message);
  }
}

export interface Listening {
  server: Server;
  url: string;
  /** Stops accepting, waits up to `graceMs` for requests in flight, then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

export async function listen(app: RequestListener, o: { host: string; port: number; headersTimeoutMs?: number; requestTimeoutMs?: number }): Promise<Listening> {
  const headersTimeout = o.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const requestTimeout = Math.max(headersTimeout, o.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
  const server = createServer({
    maxHeaderSize: MAX_HEAD_BYTES,
    keepAliveTimeout: 5000,
    headersTimeout,
    requestTimeout,
    // Node checks the two timeouts this often (default 30 s, which would let a slow client hold on far longer).
    connectionsCheckingInterval: Math.min(1000, headersTimeout),
  }, app);
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const where = `${o.host}:${o.port}`;
      if (err.code === 'EADDRINUSE') reject(new ListenError('PORT_IN_USE', `port ${o.port} is already in use (${where}): stop the other process or set PORT to a free port`));
      else if (err.code === 'EACCES') reject(new ListenError('PORT_DENIED', `not allowed to listen on ${where}: choose a port above 1023 or run with the needed permission`));
      else reject(new ListenError('LISTEN_FAILED', `cannot listen on ${where}: ${err.message}`));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(o.port, o.host);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  return {
    server,
    url,
    close(graceMs = 5000) {
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
