import { z } from 'zod';
import type { NodeMountRecord } from './nodeMountRecord';

const volumeSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('bind'), path: z.string().startsWith('/') }).strict(),
  z
    .object({
      kind: z.literal('nfs'),
      fsType: z.enum(['nfs4', 'efs']),
      device: z.string().min(1),
      options: z.array(z.string()),
    })
    .strict(),
]);

const mountRegistration = z
  .object({
    volumeId: z.string().min(1).max(256),
    path: z.string().startsWith('/'),
    kind: z.enum(['staging', 'publish']),
    readOnly: z.boolean(),
    expectedSource: z.string(),
    stagingPath: z.string().startsWith('/').optional(),
    source: volumeSource.optional(),
    intervalMs: z.number().int().positive().optional(),
    timeoutMs: z.number().int().positive().optional(),
    identity: z
      .object({ device: z.string().regex(/^\d+:\d+$/), root: z.string().startsWith('/') })
      .strict()
      .optional(),
    pending: z.boolean().optional(),
  })
  .strict();

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type SameShape<A, B> = Same<A, B> extends true ? Same<keyof A, keyof B> : false;
/**
 * Fails to compile when NodeMountRecord and the schema drift apart: a field added to the one
 * must be added to the other, or files written with it would read back as corrupt.
 */
export const schemaMatchesRegistration: SameShape<z.infer<typeof mountRegistration>, NodeMountRecord> = true;

/** The node state file: a list of the mounts this node made. */
export const nodeStateFileSchema = z.array(mountRegistration);

/**
 * Parses the text of the state file. Returns the records, or the reason the text is not a
 * valid state file (bad JSON, a record of the wrong shape, two records for one path).
 */
export function parseNodeState(text: string): { ok: true; records: NodeMountRecord[] } | { ok: false; detail: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, detail: `not JSON (${(err as Error).message})` };
  }
  const parsed = nodeStateFileSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { ok: false, detail: first ? `${first.path.join('.') || 'file'}: ${first.message}` : 'invalid' };
  }
  const records = parsed.data.map(withoutUndefined);
  const seen = new Set<string>();
  for (const r of records) {
    if (seen.has(r.path)) return { ok: false, detail: `two records for ${r.path}` };
    seen.add(r.path);
  }
  return { ok: true, records };
}

/** zod leaves optional keys out when absent; this keeps the exactOptional shape of NodeMountRecord. */
function withoutUndefined(r: z.infer<typeof mountRegistration>): NodeMountRecord {
  const out: NodeMountRecord = {
    volumeId: r.volumeId,
    path: r.path,
    kind: r.kind,
    readOnly: r.readOnly,
    expectedSource: r.expectedSource,
  };
  if (r.stagingPath !== undefined) out.stagingPath = r.stagingPath;
  if (r.intervalMs !== undefined) out.intervalMs = r.intervalMs;
  if (r.timeoutMs !== undefined) out.timeoutMs = r.timeoutMs;
  if (r.identity !== undefined) out.identity = { device: r.identity.device, root: r.identity.root };
  if (r.pending !== undefined) out.pending = r.pending;
  if (r.source !== undefined)
    out.source = r.source.kind === 'bind' ? { kind: 'bind', path: r.source.path } : { ...r.source, options: [...r.source.options] };
  return out;
}
