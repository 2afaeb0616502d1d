import { status } from '@grpc/grpc-js';
import { capabilityProblem, identifierProblem, type Expectation } from './expectations';
import { secretMarker } from './fieldValues';
import type { Request } from './rpcCatalog';

/** What came back for one request. */
export interface Outcome {
  code: number;
  details?: string;
  res?: unknown;
  /** Set when the error was not a gRPC ServiceError at all. */
  malformed?: string;
  ms: number;
}

/** The longest error message a client should have to show (a status message, not a dump of the request). */
export const maxDetailsLength = 2048;

/** Why an outcome is wrong, or an empty list. */
export function judge(rpc: string, req: Request, exp: Expectation, o: Outcome): string[] {
  const out: string[] = [];
  if (o.malformed) return [`not a gRPC status: ${o.malformed}`];
  if (!Number.isInteger(o.code) || status[o.code] === undefined) return [`code ${o.code} is not a gRPC status code`];
  if (o.code !== status.OK) {
    const d = o.details;
    if (typeof d !== 'string' || d.trim() === '') out.push('empty details');
    else {
      if (d.length > maxDetailsLength) out.push(`details of ${d.length} characters`);
      if (/\n\s+at /.test(d)) out.push('a stack trace in the details');
      if (d.includes(secretMarker)) out.push('a secret in the details');
    }
  }
  const why = exp.problems.length > 0 ? ` (input: ${exp.problems.join('; ')})` : '';
  if (o.code === status.UNKNOWN) out.push('UNKNOWN: an error that was not mapped');
  else if (o.code === status.INTERNAL) out.push(`INTERNAL${why}`);
  else if (o.code === status.DEADLINE_EXCEEDED) out.push(`no answer before the deadline (${o.ms} ms)${why}`);
  else if (!exp.allowed.has(o.code)) {
    out.push(
      o.code === status.OK
        ? `accepted input it must refuse:${why.slice(1)}`
        : `${status[o.code]} is not a code ${rpc} may return here${why}`,
    );
  }
  if (o.code === status.OK) out.push(...responseProblems(rpc, req, o.res));
  return out;
}

const num = (v: unknown): bigint | undefined => (typeof v === 'string' && /^-?\d+$/.test(v) ? BigInt(v) : undefined);
/** A nested field of a decoded message, or undefined. */
const at = (v: unknown, ...keys: string[]): unknown =>
  keys.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), v);

/** A few facts every successful answer must respect. */
function responseProblems(rpc: string, req: Request, res: unknown): string[] {
  const out: string[] = [];
  const text = JSON.stringify(res) ?? '';
  if (text.includes(secretMarker)) out.push('a secret in the response');
  switch (rpc) {
    case 'CreateVolume': {
      const raw = at(res, 'volume', 'volume_id');
      const id = typeof raw === 'string' ? raw : '';
      const problem = identifierProblem(id);
      if (problem) out.push(`returned volume id ${JSON.stringify(id).slice(0, 60)} has ${problem}`);
      const capacity = num(at(res, 'volume', 'capacity_bytes'));
      const required = num(at(req, 'capacity_range', 'required_bytes')) ?? 0n;
      if (capacity === undefined || capacity < required) out.push(`capacity ${String(capacity)} below required ${required}`);
      break;
    }
    case 'ValidateVolumeCapabilities': {
      const caps = (req.volume_capabilities as unknown[] | undefined) ?? [];
      if (at(res, 'confirmed') && caps.some((c) => capabilityProblem(c)))
        out.push('confirmed a capability a filesystem driver cannot serve');
      break;
    }
    case 'GetCapacity': {
      const available = num(at(res, 'available_capacity'));
      if (available === undefined || available < 0n) out.push(`available_capacity ${String(at(res, 'available_capacity'))}`);
      const caps = (req.volume_capabilities as unknown[] | undefined) ?? [];
      if (available !== 0n && caps.some((c) => capabilityProblem(c)))
        out.push('capacity offered for a capability a filesystem driver cannot serve');
      break;
    }
    case 'ListVolumes':
    case 'ListSnapshots':
    case 'ControllerListVolumeHealth': {
      const max = typeof req.max_entries === 'number' ? req.max_entries : 0;
      const entries = at(res, 'entries');
      const n = Array.isArray(entries) ? entries.length : -1;
      if (n < 0) out.push('no entries list');
      if (max > 0 && n > max) out.push(`${n} entries for max_entries ${max}`);
      break;
    }
    case 'Probe':
      if (at(res, 'ready', 'value') !== true) out.push('Probe says not ready');
      break;
  }
  return out;
}
