import type * as http from 'node:http';
import type { Logger } from 'pino';
import { parseDuration } from '../duration';
import type { FaultInjector, FaultOperation } from '../health/faultInjector';
import type { HealthStatus } from '../health/healthIssue';
import { listen } from './healthHttpServer';

class BadRequest extends Error {}

async function body(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 64 * 1024) throw new BadRequest('body too large');
  }
  if (!text.trim()) return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new BadRequest('body must be a JSON object');
}

function optDuration(v: unknown, field: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new BadRequest(`${field} must be a duration string like "30s"`);
  try {
    return parseDuration(v);
  } catch (err) {
    throw new BadRequest(`${field}: ${(err as Error).message}`);
  }
}

function str(v: unknown, field: string, fallback?: string): string {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string' || !v) throw new BadRequest(`${field} is required`);
  return v;
}

const statuses: HealthStatus[] = ['DEGRADED', 'INACCESSIBLE', 'DATA_LOSS'];
const ops: FaultOperation[] = ['mount', 'stage', 'publish'];
const volumePath = /^\/faults\/volumes\/([^/]{1,128})\/(condition|latency)$/;

function send(res: http.ServerResponse, code: number, v: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(v)}\n`);
}

/**
 * The fault-injection API (only with --enable-fault-injection; 127.0.0.1 unless told otherwise):
 *   GET    /faults                                   what is armed
 *   POST   /faults/volumes/<id>/condition            {status?, reason?, message, abnormal?, duration?}
 *   POST   /faults/volumes/<id>/latency              {latency: "2s", duration?}
 *   POST   /faults/fail-next                         {operation: mount|stage|publish, count?, message?, duration?}
 *   DELETE /faults/volumes/<id>   and   DELETE /faults
 */
export async function startFaultApi(port: number, address: string, faults: FaultInjector, logger: Logger): Promise<http.Server> {
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const p = url.pathname;
    try {
      if (req.method === 'GET' && p === '/faults') return send(res, 200, faults.list());
      if (req.method === 'DELETE' && p === '/faults') {
        faults.clear();
        return send(res, 200, { cleared: 'all' });
      }
      const del = /^\/faults\/volumes\/([^/]{1,128})$/.exec(p);
      if (req.method === 'DELETE' && del?.[1]) {
        faults.clear(decodeURIComponent(del[1]));
        return send(res, 200, { cleared: decodeURIComponent(del[1]) });
      }
      if (req.method === 'POST' && p === '/faults/fail-next') {
        const b = await body(req);
        const op = str(b.operation, 'operation') as FaultOperation;
        if (!ops.includes(op)) throw new BadRequest(`operation must be one of ${ops.join(', ')}`);
        const count = b.count === undefined ? 1 : Number(b.count);
        if (!Number.isInteger(count) || count < 1 || count > 1000) throw new BadRequest('count must be a whole number from 1 to 1000');
        faults.failNext(op, count, str(b.message, 'message', 'fault injected for testing'), optDuration(b.duration, 'duration'));
        logger.warn({ op, count }, 'fault injected: failing next operations');
        return send(res, 200, faults.list());
      }
      const m = volumePath.exec(p);
      if (req.method === 'POST' && m?.[1] && m[2]) {
        const volumeId = decodeURIComponent(m[1]);
        const b = await body(req);
        const duration = optDuration(b.duration, 'duration');
        if (m[2] === 'latency') {
          const ms = optDuration(b.latency, 'latency');
          if (ms === undefined) throw new BadRequest('latency is required');
          faults.setLatency(volumeId, ms, duration);
        } else if (b.abnormal === false) {
          faults.clear(volumeId);
        } else {
          const status = str(b.status, 'status', 'DEGRADED') as HealthStatus;
          if (!statuses.includes(status)) throw new BadRequest(`status must be one of ${statuses.join(', ')}`);
          const reason = str(b.reason, 'reason', 'InjectedFault');
          if (!/^[A-Z][A-Za-z0-9]{0,63}$/.test(reason)) throw new BadRequest('reason must be a CamelCase word');
          faults.setCondition(volumeId, status, reason, str(b.message, 'message', 'fault injected for testing'), duration);
        }
        logger.warn({ volumeId, kind: m[2] }, 'fault injected');
        return send(res, 200, faults.list());
      }
      send(res, 404, { error: 'not found' });
    } catch (err) {
      if (err instanceof BadRequest) send(res, 400, { error: err.message });
      else throw err;
    }
  };
  return listen(port, address, {}, logger, handle);
}
