import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { StorageIssue } from '../backend/storageIssue';
import { listenHttp, sendJson, type HttpLimits } from './listenHttp';
import { statusPageHtml } from './statusPage';

/**
 * The readiness verdict. `problems` says in words what stands against it (a mount and its
 * reasons, or the share); `storage` carries the share's problems as data for whoever acts on them.
 */
export interface Readiness {
  ok: boolean;
  problems: string[];
  storage: StorageIssue[];
}

/** What the health endpoints report; each function answers from memory, never from storage. */
export interface HealthSources {
  live: () => { ok: boolean; message: string };
  ready: () => Readiness;
  mounts: () => Record<string, unknown>;
  metrics: () => Promise<string>;
  metricsContentType: string;
  driverName: string;
}

/** The health port: /healthz, /healthz/live, /healthz/ready, /healthz/mounts, /metrics and the status page. */
export async function startHealthServer(
  port: number,
  address: string,
  src: HealthSources,
  logger: Logger,
  limits: Partial<HttpLimits> = {},
): Promise<http.Server> {
  const server = await listenHttp({
    port,
    address,
    logger,
    limits,
    routes: {
      'GET /': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(statusPageHtml(src.driverName));
      },
      'GET /healthz': (_req, res) => {
        const live = src.live();
        const ready = src.ready();
        sendJson(res, live.ok ? 200 : 503, {
          status: !live.ok ? 'broken' : ready.ok ? 'healthy' : 'degraded',
          live: live.message,
          problems: ready.problems,
          storage: ready.storage,
        });
      },
      'GET /healthz/live': (_req, res) => {
        const live = src.live();
        sendJson(res, live.ok ? 200 : 503, { ok: live.ok, message: live.message });
      },
      'GET /healthz/ready': (_req, res) => {
        const ready = src.ready();
        sendJson(res, ready.ok ? 200 : 503, { ok: ready.ok, problems: ready.problems, storage: ready.storage });
      },
      'GET /healthz/mounts': (_req, res) => sendJson(res, 200, src.mounts()),
      'GET /metrics': async (_req, res) => {
        const text = await src.metrics();
        res.writeHead(200, { 'content-type': src.metricsContentType });
        res.end(text);
      },
    },
  });
  logger.info({ port: (server.address() as AddressInfo).port, address }, 'health server listening');
  return server;
}
