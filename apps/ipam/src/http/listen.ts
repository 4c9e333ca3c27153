/**
 * The HTTP port is bound first, before anything connects to NATS or takes the lease, and before the
 * application's modules are even loaded: a port in use is one line and exit code 2, and /healthz
 * answers within a moment of the start while NATS is still out of reach. Until the application is up
 * (connected to NATS, the stream and the lease bucket there, every route registered), the front answers
 * by itself: /healthz 200, /readyz 503 NotReady saying why, anything else 503 Unavailable (nothing is
 * published, nothing is read). Then every request goes to the application.
 *
 * Light on purpose (node:http and the problem shape only): main.ts binds with it before importing Nest.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { parseServers } from '../../../../libs/ipam-client/src/index.js';
import type { IpamEnv } from '../config/ipam.config.js';
import type { AppLogger } from '../logging/logger.js';
import { problem, PROBLEM_CONTENT_TYPE, type Problem } from './problem.js';

/** Binding the HTTP port failed in a way the operator fixes in the configuration (exit code 2). */
export class HttpListenError extends Error {
  readonly exitCode = 2;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HttpListenError';
  }
}

/** The operator's words for a failed bind: what is wrong and which variable changes it. */
export function listenErrorMessage(err: NodeJS.ErrnoException, port: number, host: string): string | null {
  switch (err.code) {
    case 'EADDRINUSE':
      return `HTTP port ${port} on ${host} is in use; set HTTP_PORT to a free port (0 picks one), or stop what listens there`;
    case 'EACCES':
      return `HTTP port ${port} on ${host} may not be bound by this user (EACCES); set HTTP_PORT to a port above 1023`;
    case 'EADDRNOTAVAIL':
      return `HTTP_HOST ${host} is not an address of this machine (EADDRNOTAVAIL); set HTTP_HOST to one of its addresses, or 0.0.0.0`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `HTTP_HOST ${host} does not resolve (${err.code}); set HTTP_HOST to an address of this machine`;
    default:
      return null;
  }
}

/** What the service is waiting for, while the front answers by itself. */
export type StartPhase = 'nats' | 'jetstream' | 'app';

export class HttpFront {
  readonly server: Server;
  private app: RequestListener | null = null;
  private phase: StartPhase = 'nats';
  /** set by listen(): the URL a client on this machine reaches it at */
  url = '';

  /**
   * `nats`: the server list as it may be shown (credentials redacted); `tls`: a certificate (chain) and
   * its key in PEM, to serve HTTPS instead of HTTP.
   */
  constructor(
    readonly nats: string,
    private readonly tls: { cert: Buffer; key: Buffer } | null = null,
  ) {
    const handler: RequestListener = (req, res) => {
      if (this.app !== null) this.app(req, res);
      else this.answer(req, res);
    };
    this.server = tls === null ? createServer(handler) : createHttpsServer(tls, handler);
  }

  /** Listens on `port` at `host`; a failure the operator can fix rejects with an HttpListenError. */
  listen(port: number, host: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        this.server.off('listening', onListening);
        const message = listenErrorMessage(err, port, host);
        reject(message === null ? err : new HttpListenError(message, { cause: err }));
      };
      const onListening = () => {
        this.server.off('error', onError);
        this.url = localUrl(this.server, host, this.tls !== null);
        resolve(this.url);
      };
      this.server.once('error', onError);
      this.server.once('listening', onListening);
      this.server.listen(port, host);
    });
  }

  /** What the service waits for now (said by /readyz and the 503 answers). */
  waitingFor(phase: StartPhase): void {
    this.phase = phase;
  }

  /** From now on every request goes to `app`. */
  open(app: RequestListener): void {
    this.app = app;
  }

  /** Stops listening and ends every connection (a start that failed). */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise((r) => this.server.close(r));
    this.server.closeAllConnections();
    await closed;
  }

  private detail(): { detail: string; connected: boolean } {
    switch (this.phase) {
      case 'nats':
        return { detail: `not connected to NATS (connecting to ${this.nats})`, connected: false };
      case 'jetstream':
        return {
          detail: `connected to NATS at ${this.nats}; JetStream (the lease bucket, the stream) is not reachable yet`,
          connected: true,
        };
      case 'app':
        return { detail: 'connected to NATS; the service is starting', connected: true };
    }
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    const { detail, connected } = this.detail();
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      send(res, 200, 'application/json; charset=utf-8', { status: 'ok' });
      return;
    }
    res.setHeader('Retry-After', '5');
    if (path === '/readyz') {
      // the readiness fields of /readyz (readiness.service.ts), as they are before anything is read
      const readiness = {
        ready: false,
        connected,
        position: 0,
        streamLastSeq: null,
        lag: null,
        leader: false,
        deciding: false,
        decider: { present: false, holder: null, waiting: 0, waitingMs: 0 },
        lagGrowing: false,
        reason: detail,
      };
      send(res, 503, PROBLEM_CONTENT_TYPE, problem('NotReady', 503, detail, readiness));
      return;
    }
    const p: Problem = problem(
      'Unavailable',
      503,
      `the service is starting: ${detail}; nothing was published or read. Try again later.`,
    );
    send(res, 503, PROBLEM_CONTENT_TYPE, p);
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The URL a client on this machine reaches the server at (loopback for a wildcard address). */
export function localUrl(server: Server, host: string, https = false): string {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `${https ? 'https' : 'http'}://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

/**
 * Binds the HTTP port of `config` (HttpListenError when it cannot) and says so; the front answers
 * /healthz at once and 503 for the rest until the service opens it.
 */
export async function openHttpFront(config: IpamEnv, logger: AppLogger): Promise<HttpFront> {
  const tls =
    config.HTTP_TLS_CERT && config.HTTP_TLS_KEY
      ? { cert: readFileSync(config.HTTP_TLS_CERT), key: readFileSync(config.HTTP_TLS_KEY) }
      : null;
  const front = new HttpFront(parseServers(config.NATS_URL).redacted.join(','), tls);
  // loadConfig always settles HTTP_HOST (loopback unless HTTP authentication is configured)
  const url = await front.listen(config.HTTP_PORT, config.HTTP_HOST ?? '127.0.0.1');
  logger.info(
    { http: url },
    `HTTP listening on ${url} (/healthz answers; the API once NATS at ${front.nats} is reached)`,
  );
  return front;
}
