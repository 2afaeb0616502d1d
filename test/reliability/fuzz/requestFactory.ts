import { FieldValues } from './fieldValues';
import type { FuzzWorld } from './fuzzWorld';
import { Prng } from './prng';
import { rpcCatalog, type Request, type RpcSpec } from './rpcCatalog';

export type Mode = 'valid' | 'mutated' | 'random';

/** One generated request: a pure function of (seed, index, world). */
export interface FuzzRequest {
  index: number;
  spec: RpcSpec;
  mode: Mode;
  /** The field a mutated request has changed. */
  field?: string;
  req: Request;
}

const weightedRpcs = rpcCatalog.map((s) => [s.weight, s] as const);

/**
 * Request `index` of run `seed`: an RPC by weight, then a valid request (45%), a valid one with
 * one field replaced by a hostile value (35%), or one whose every field is hostile, valid or
 * missing at random (20%).
 */
export function generateRequest(seed: number, index: number, w: FuzzWorld): FuzzRequest {
  const rng = Prng.forRequest(seed, index);
  const spec = rng.weighted(weightedRpcs);
  const f = new FieldValues(rng, w, index);
  const valid = dropUndefined(spec.valid(f));
  const fields = Object.keys(spec.fields);
  const mode: Mode =
    fields.length === 0
      ? 'valid'
      : rng.weighted<Mode>([
          [45, 'valid'],
          [35, 'mutated'],
          [20, 'random'],
        ]);
  if (mode === 'valid') return { index, spec, mode, req: valid };
  if (mode === 'mutated') {
    const field = rng.pick(fields);
    return { index, spec, mode, field, req: { ...valid, [field]: f.hostile(spec.fields[field]!) } };
  }
  const req: Request = {};
  for (const field of fields) {
    const choice = rng.weighted<'hostile' | 'valid' | 'missing'>([
      [2, 'hostile'],
      [1, 'valid'],
      [1, 'missing'],
    ]);
    if (choice === 'hostile') req[field] = f.hostile(spec.fields[field]!);
    else if (choice === 'valid' && valid[field] !== undefined) req[field] = valid[field];
  }
  return { index, spec, mode, req };
}

function dropUndefined(req: Request): Request {
  return Object.fromEntries(Object.entries(req).filter(([, v]) => v !== undefined));
}
