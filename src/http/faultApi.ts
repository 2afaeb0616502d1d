import type * as http from 'node:http';
import type { Logger } from 'pino';
import { parseDuration } from '../duration';
import type { FaultInjector, FaultOperation } from '../health/faultInjector';
import type { HealthStatus } from '../health/healthIssue';
import { faultApiGuard } from './faultApiGuard';
import { listenHttp, sendJson, type HttpLimits } from './listenHttp';
import { decodePathSegment, type RequestTarget } from './requestTarget';

class BadRequest extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const maxBodyBytes = 64 * 1024;

async function body(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw new BadRequest(`body larger than ${maxBodyBytes} bytes`, 413);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
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

function volumeIdOf(segment: string): string {
  const id = decodePathSegment(segment);
  if (id === undefined || id === '' || id.includes('\0'))
    throw new BadRequest('the volume id in the path is not a valid percent-encoded name');
  return id;
}

const statuses: HealthStatus[] = ['DEGRADED', 'INACCESSIBLE', 'DATA_LOSS'];
const ops: FaultOperation[] = ['mount', 'stage', 'publish'];
const volumePath = /^\/faults\/volumes\/([^/]{1,384})(?:\/(condition|latency))?$/;

async function failNext(req: http.IncomingMessage, faults: FaultInjector, logger: Logger): Promise<void> {
  const b = await body(req);
  const op = str(b.operation, 'operation') as FaultOperation;
  if (!ops.includes(op)) throw new BadRequest(`operation must be one of ${ops.join(', ')}`);
  const count = b.count === undefined ? 1 : Number(b.count);
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new BadRequest('count must be a whole number from 1 to 1000');
  faults.failNext(op, count, str(b.message, 'message', 'fault injected for testing'), optDuration(b.duration, 'duration'));
  logger.warn({ op, count }, 'fault injected: failing next operations');
}

async function setVolumeFault(req: http.IncomingMessage, volumeId: string, kind: string, faults: FaultInjector): Promise<void> {
  const b = await body(req);
  const duration = optDuration(b.duration, 'duration');
  if (kind === 'latency') {
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
}

/** The per-volume routes, matched by pattern: DELETE a volume's faults, POST its condition or latency. */
function volumeRoutes(faults: FaultInjector, logger: Logger) {
  return async (req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget): Promise<void> => {
    const m = volumePath.exec(target.path);
    if (!m?.[1]) return sendJson(res, 404, { error: 'not found' });
    const allowed = m[2] ? 'POST' : 'DELETE';
    if (req.method !== allowed) return sendJson(res, 405, { error: 'method not allowed' });
    const volumeId = volumeIdOf(m[1]);
    if (!m[2]) {
      faults.clear(volumeId);
      return sendJson(res, 200, { cleared: volumeId });
    }
    await setVolumeFault(req, volumeId, m[2], faults);
    logger.warn({ volumeId, kind: m[2] }, 'fault injected');
    sendJson(res, 200, faults.list());
  };
}

/** Answers a BadRequest with its status; anything else is the server's failure (500). */
function answering(handler: (req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget) => Promise<void> | void) {
  return async (req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget): Promise<void> => {
    try {
      await handler(req, res, target);
    } catch (err) {
      if (!(err instanceof BadRequest)) throw err;
      // An unread body stays on the connection: close it rather than parse the rest as a request.
      if (!req.complete) res.setHeader('connection', 'close');
      sendJson(res, err.status, { error: err.message });
    }
  };
}

/**
 * The fault-injection API (only with --enable-fault-injection; 127.0.0.1 unless told otherwise):
 *   GET    /faults                                   what is armed
 *   POST   /faults/volumes/<id>/condition            {status?, reason?, message, abnormal?, duration?}
 *   POST   /faults/volumes/<id>/latency              {latency: "2s", duration?}
 *   POST   /faults/fail-next                         {operation: mount|stage|publish, count?, message?, duration?}
 *   DELETE /faults/volumes/<id>   and   DELETE /faults
 * Every request passes faultApiGuard first (Host, browser origin, JSON content type).
 */
export async function startFaultApi(
  port: number,
  address: string,
  faults: FaultInjector,
  logger: Logger,
  limits: Partial<HttpLimits> = {},
): Promise<http.Server> {
  return listenHttp({
    port,
    address,
    logger,
    limits,
    guard: faultApiGuard(address),
    routes: {
      'GET /faults': (_req, res) => sendJson(res, 200, faults.list()),
      'DELETE /faults': (_req, res) => {
        faults.clear();
        sendJson(res, 200, { cleared: 'all' });
      },
      'POST /faults/fail-next': answering(async (req, res) => {
        await failNext(req, faults, logger);
        sendJson(res, 200, faults.list());
      }),
    },
    fallback: answering(volumeRoutes(faults, logger)),
  });
}
