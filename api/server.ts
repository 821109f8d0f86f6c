/**
 * Listening: an HTTP server for the app that fails loudly when its port is taken, and closes
 * gracefully (stops accepting, lets requests in flight finish, then cuts what is left).
 */
import { createServer, type Server } from 'node:http';
import type { RequestListener } from 'node:http';

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

export async function listen(app: RequestListener, o: { host: string; port: number }): Promise<Listening> {
  // Long URLs: a 1,000-point forecast's coordinates take ~20 KB.
  const server = createServer({ maxHeaderSize: 64 * 1024, keepAliveTimeout: 5000 }, app);
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
