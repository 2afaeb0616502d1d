import type * as http from 'node:http';
import { isIP } from 'node:net';
import { isLoopbackHost } from '../config';
import type { Refusal } from './listenHttp';

const wildcard = new Set(['0.0.0.0', '::', '[::]', '']);

/** The host part of a Host header (`name`, `name:port`, `[v6]`, `[v6]:port`), or undefined if malformed. */
export function hostOfHeader(value: string): string | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (!m?.[1]) return undefined;
  return m[1].toLowerCase();
}

function bare(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * Is this Host one the fault API answers to? Loopback names and addresses, the address it is
 * bound to, and (bound to a wildcard) any IP literal. A DNS name other than localhost is
 * refused: that is what a DNS-rebinding page would send.
 */
export function isAllowedFaultApiHost(host: string, bindAddress: string): boolean {
  const h = bare(host);
  if (isLoopbackHost(h)) return true;
  if (isIP(h) !== 0 && wildcard.has(bare(bindAddress))) return true;
  return h === bare(bindAddress).toLowerCase();
}

function hasBody(req: http.IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * The fault API's checks before routing: it is a tool for scripts and tests on the node, and a
 * browser on the operator's machine must not be able to drive it (a page's cross-origin POST,
 * or a DNS-rebinding page that reaches 127.0.0.1 through a name of its own).
 * - a Host that is not loopback or the bind address: 403;
 * - an `Origin` header, or `Sec-Fetch-Site` other than `none`/`same-origin` (browsers send
 *   these; curl and scripts do not): 403;
 * - a POST or DELETE with a body that is not `Content-Type: application/json`: 415 (a form
 *   post, which browsers send cross-origin without a preflight, never gets through).
 */
export function faultApiGuard(bindAddress: string): (req: http.IncomingMessage) => Refusal | undefined {
  return (req) => {
    const hostHeader = req.headers.host;
    if (hostHeader === undefined) return { status: 400, error: 'a Host header is required' };
    const host = hostOfHeader(hostHeader);
    if (!host || !isAllowedFaultApiHost(host, bindAddress))
      return { status: 403, error: `Host "${hostHeader.slice(0, 100)}" is not allowed: use 127.0.0.1, localhost or the bind address` };
    if (req.headers.origin !== undefined) return { status: 403, error: 'browser-originated requests are refused (Origin header present)' };
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'none' && site !== 'same-origin')
      return { status: 403, error: `browser-originated requests are refused (Sec-Fetch-Site: ${site.slice(0, 40)})` };
    if ((req.method === 'POST' || req.method === 'DELETE') && hasBody(req)) {
      const type = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
      if (type !== 'application/json') return { status: 415, error: 'the body must be Content-Type: application/json' };
    }
    return undefined;
  };
}
