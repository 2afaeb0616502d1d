import * as http from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { capConnections } from './connectionCap';
import { maxTargetLength, parseRequestTarget, type RequestTarget } from './requestTarget';

/** Bounds of one HTTP server: what a client may hold and for how long. */
export interface HttpLimits {
  /** Open connections at most; over it the oldest idle one is closed (see capConnections). */
  maxConnections: number;
  /** Time for a client to send the request headers. */
  headersTimeoutMs: number;
  /** Time for a client to send the whole request. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** A connection with no traffic at all is closed after this. */
  idleTimeoutMs: number;
  /** Request line plus headers, in bytes. */
  maxHeaderBytes: number;
}

export const defaultHttpLimits: Readonly<HttpLimits> = Object.freeze({
  maxConnections: 64,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  maxHeaderBytes: 8 * 1024,
});

export type HttpHandler = (req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget) => Promise<void> | void;

/** A refusal decided before routing: status and the reason sent to the client. */
export interface Refusal {
  status: number;
  error: string;
}

export interface HttpServerOptions {
  port: number;
  address: string;
  /** `"GET /path"` to handler; a known path with another method gets 405. */
  routes: Record<string, HttpHandler>;
  /** For paths that are not in the table (the fault API routes by pattern). */
  fallback?: HttpHandler;
  /** Checks every request before routing (the fault API's Host and origin checks). */
  guard?: (req: http.IncomingMessage) => Refusal | undefined;
  limits?: Partial<HttpLimits>;
  logger: Logger;
}

/** Writes a JSON answer that is never cached. */
export function sendJson(res: http.ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${text}\n`);
}

const clientErrorStatus: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
  HPE_URI_TOO_LONG: '414 URI Too Long',
};

/** A request the parser refused: a short answer if the socket can take one, then close. */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const line = clientErrorStatus[err.code ?? ''] ?? '400 Bad Request';
  socket.end(`HTTP/1.1 ${line}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}

function route(o: HttpServerOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> | void {
  if ((req.url?.length ?? 0) > maxTargetLength) return sendJson(res, 414, { error: 'request target too long' });
  const target = parseRequestTarget(req.url);
  if (!target) return sendJson(res, 400, { error: 'invalid request target' });
  // RFC 9112 6.3: a request whose transfer coding does not end in chunked has no knowable length.
  const te = req.headers['transfer-encoding'];
  if (te !== undefined && !/(^|,)\s*chunked\s*$/i.test(te)) return sendJson(res, 400, { error: 'unsupported Transfer-Encoding' });
  const refusal = o.guard?.(req);
  if (refusal) return sendJson(res, refusal.status, { error: refusal.error });
  const run = o.routes[`${req.method} ${target.path}`] ?? o.fallback;
  if (run) return run(req, res, target);
  const known = Object.keys(o.routes).some((k) => k.endsWith(` ${target.path}`));
  sendJson(res, known ? 405 : 404, { error: known ? 'method not allowed' : 'not found' });
}

/**
 * Starts an HTTP server that no client can crash or exhaust: every request is parsed without
 * throwing (a bad target is 400), a handler's failure is a 500 for that request only, and the
 * limits above bound connections, header size and the time a client may take.
 */
export async function listenHttp(o: HttpServerOptions): Promise<http.Server> {
  const limits = { ...defaultHttpLimits, ...o.limits };
  const server = http.createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    },
    (req, res) => {
      const failed = (err: unknown): void => {
        o.logger.error({ err, method: req.method }, 'HTTP handler failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      };
      try {
        Promise.resolve(route(o, req, res)).catch(failed);
      } catch (err) {
        failed(err);
      }
    },
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.maxRequestsPerSocket = 1000;
  server.setTimeout(limits.idleTimeoutMs, (socket) => socket.destroy());
  server.on('clientError', answerClientError);
  capConnections(server, limits.maxConnections);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listening, an error (an accept failing with EMFILE) is logged: it must not end the process.
  server.on('error', (err) => o.logger.error({ err }, 'HTTP server error'));
  return server;
}
