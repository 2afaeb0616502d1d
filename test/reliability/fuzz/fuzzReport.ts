import { status } from '@grpc/grpc-js';
import type { FuzzRequest, Mode } from './requestFactory';

/** At most `n` characters of `s` (whole code points), with its length when cut. */
export function cut(s: string, n: number): string {
  const chars = Array.from(s);
  return chars.length <= n ? s : `${chars.slice(0, n).join('')}…[${s.length} chars]`;
}

/** A copy fit for one line: long strings (keys too) and lists cut. */
function shorten(v: unknown): unknown {
  if (typeof v === 'string') return cut(v, 40);
  if (Array.isArray(v)) return (v.length > 4 ? [...v.slice(0, 3), `…[${v.length} items]`] : v).map(shorten);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [cut(k, 40), shorten(x)]));
  return v;
}

/** A request as a short, printable line; JSON escapes control characters, NUL and lone surrogates. */
export function describeRequest(fr: FuzzRequest, maxLength = 700): string {
  const head = `#${fr.index} ${fr.spec.rpc} (${fr.mode}${fr.field ? `: ${fr.field}` : ''})`;
  const body = JSON.stringify(shorten(fr.req));
  return `${head} ${body.length > maxLength ? `${body.slice(0, maxLength)}…` : body}`;
}

/** Details of an answer, cut to a line. */
export function describeAnswer(code: number, details: string | undefined): string {
  const d = details === undefined ? '' : JSON.stringify(cut(details, 400));
  return `${status[code] ?? code}${d ? ` ${d}` : ''}`;
}

/** Counts per RPC and status code, and per kind of request. */
export class FuzzStats {
  private readonly perRpc = new Map<string, Map<string, number>>();
  private readonly perCode = new Map<string, number>();
  private readonly perMode = new Map<Mode, number>();
  total = 0;

  record(rpc: string, mode: Mode, code: number): void {
    const name = status[code] ?? String(code);
    const row = this.perRpc.get(rpc) ?? new Map<string, number>();
    row.set(name, (row.get(name) ?? 0) + 1);
    this.perRpc.set(rpc, row);
    this.perCode.set(name, (this.perCode.get(name) ?? 0) + 1);
    this.perMode.set(mode, (this.perMode.get(mode) ?? 0) + 1);
    this.total++;
  }

  count(rpc: string, code: number): number {
    return this.perRpc.get(rpc)?.get(status[code] ?? String(code)) ?? 0;
  }

  rpcs(): string[] {
    return [...this.perRpc.keys()];
  }

  /** One line per RPC (`CreateVolume 812: OK 120, INVALID_ARGUMENT 650, ...`), then the totals. */
  lines(): string[] {
    const fmt = (m: Map<string, number>) =>
      [...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
    const rows = [...this.perRpc.entries()].sort((a, b) => a[0].localeCompare(b[0]));
    const width = Math.max(...rows.map(([rpc]) => rpc.length));
    return [
      ...rows.map(([rpc, m]) => `  ${rpc.padEnd(width)} ${String([...m.values()].reduce((s, n) => s + n, 0)).padStart(5)}: ${fmt(m)}`),
      `  by code: ${fmt(this.perCode)}`,
      `  by kind: ${[...this.perMode.entries()].map(([k, n]) => `${k} ${n}`).join(', ')}`,
    ];
  }
}
