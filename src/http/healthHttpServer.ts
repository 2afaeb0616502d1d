import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { statusPageHtml } from './statusPage';

/** What the health endpoints report; each function answers from memory, never from storage. */
export interface HealthSources {
  live: () => { ok: boolean; message: string };
  ready: () => { ok: boolean; problems: string[] };
  mounts: () => Record<string, unknown>;
  metrics: () => Promise<string>;
  metricsContentType: string;
  driverName: string;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> | void;

function json(res: http.ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${text}\n`);
}

/** Starts an HTTP server with a route table; answers 404 for unknown paths and 405 for other methods. */
export async function listen(
  port: number,
  address: string,
  routes: Record<string, Handler>,
  logger: Logger,
  fallback?: Handler,
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const handler = routes[`${req.method} ${url.pathname}`];
    const run = handler ?? fallback;
    if (!run) {
      const known = Object.keys(routes).some((k) => k.endsWith(` ${url.pathname}`));
      json(res, known ? 405 : 404, { error: known ? 'method not allowed' : 'not found' });
      return;
    }
    Promise.resolve(run(req, res)).catch((err: Error) => {
      logger.error({ err, path: url.pathname }, 'HTTP handler failed');
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.end();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve());
  });
  return server;
}

/** The health port: /healthz, /healthz/live, /healthz/ready, /healthz/mounts, /metrics and the status page. */
export async function startHealthServer(port: number, address: string, src: HealthSources, logger: Logger): Promise<http.Server> {
  const server = await listen(
    port,
    address,
    {
      'GET /': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(statusPageHtml(src.driverName));
      },
      'GET /healthz': (_req, res) => {
        const live = src.live();
        const ready = src.ready();
        json(res, live.ok ? 200 : 503, { status: !live.ok ? 'broken' : ready.ok ? 'healthy' : 'degraded', live: live.message, problems: ready.problems });
      },
      'GET /healthz/live': (_req, res) => {
        const live = src.live();
        json(res, live.ok ? 200 : 503, { ok: live.ok, message: live.message });
      },
      'GET /healthz/ready': (_req, res) => {
        const ready = src.ready();
        json(res, ready.ok ? 200 : 503, { ok: ready.ok, problems: ready.problems });
      },
      'GET /healthz/mounts': (_req, res) => json(res, 200, src.mounts()),
      'GET /metrics': async (_req, res) => {
        const text = await src.metrics();
        res.writeHead(200, { 'content-type': src.metricsContentType });
        res.end(text);
      },
    },
    logger,
  );
  logger.info({ port: (server.address() as AddressInfo).port, address }, 'health server listening');
  return server;
}
