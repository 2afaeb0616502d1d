import { z } from 'zod';
import { parseInt64 } from '../int64';
import type { SnapshotRecord, VolumeRecord } from './records';

/**
 * Byte counts on disk: a JSON number while it is a safe integer (what earlier versions wrote and
 * can read back), a decimal string above that. Either way exact, as bigint, within int64.
 */
const byteCount = z.union([z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? BigInt(v) : parseInt64(v);
  if (n === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${String(v)}" is not a byte count between 0 and 2^63-1` });
    return z.NEVER;
  }
  return n;
});

const id = z.string().min(1).max(128);
const timestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a timestamp');
const stringMap = z.record(z.string(), z.string());

const volumeRecordSchema = z.object({
  id,
  name: z.string().min(1).max(128),
  capacityBytes: byteCount,
  parameters: stringMap,
  contentSource: z.union([z.strictObject({ snapshotId: id }), z.strictObject({ volumeId: id })]).optional(),
  createdAt: timestamp,
});

const snapshotRecordSchema = z.object({
  id,
  // A member of a group snapshot is named "<group name>/<volume id>".
  name: z.string().min(1).max(300),
  sourceVolumeId: id,
  sizeBytes: byteCount,
  createdAt: timestamp,
  parameters: stringMap,
  groupSnapshotId: id.optional(),
});

/** A record schema: what the record files hold, checked when read. */
export interface RecordSchema<T> {
  /** What the file is, for messages: "volume.json". */
  what: string;
  parse(raw: unknown): { ok: true; rec: T } | { ok: false; problem: string };
}

function schemaOf<T>(what: string, schema: z.ZodType<T>): RecordSchema<T> {
  return {
    what,
    parse(raw) {
      const r = schema.safeParse(raw);
      if (r.success) return { ok: true, rec: r.data };
      const first = r.error.issues[0];
      const where = first && first.path.length > 0 ? `${first.path.join('.')}: ` : '';
      return { ok: false, problem: `${where}${first?.message ?? 'does not match the record format'}` };
    },
  };
}

export const volumeRecordFormat: RecordSchema<VolumeRecord> = schemaOf('volume.json', volumeRecordSchema);
export const snapshotRecordFormat: RecordSchema<SnapshotRecord> = schemaOf('snapshot.json', snapshotRecordSchema);

/** The JSON text of a record: byte counts as numbers while safe, as decimal strings above. */
export function recordJson(rec: object): string {
  const text = JSON.stringify(
    rec,
    (_k, v: unknown) => (typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : String(v)) : v),
    2,
  );
  return `${text}\n`;
}
