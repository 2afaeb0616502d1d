import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { encodePageToken } from '../../../src/grpc/pageToken';
import { cut } from './fuzzReport';
import { validModes } from './hostileValues';
import type { Request } from './rpcCatalog';

/**
 * What the driver may answer to a request: the codes its RPC can give at all (CSI spec and
 * STYLE.md), narrowed, when the request holds something the driver must refuse, to the codes
 * of that refusal. Rules are written from the contract (CSI spec, DESIGN.md's safety rules),
 * not copied from the driver, and only where the contract is clear: a value the contract leaves
 * open adds no expectation.
 */
export interface Expectation {
  /** Codes the RPC may return, OK included when it may succeed. */
  allowed: ReadonlySet<status>;
  /** Why the request must be refused; empty when it may succeed. */
  problems: string[];
}

const S = status;
const mutating = [S.ABORTED];

/** The codes each RPC may return on any input, on a healthy local share. */
const baseCodes: Readonly<Record<string, readonly status[]>> = {
  GetPluginInfo: [S.OK],
  GetPluginCapabilities: [S.OK],
  Probe: [S.OK],
  CreateVolume: [S.OK, S.INVALID_ARGUMENT, S.ALREADY_EXISTS, S.NOT_FOUND, S.OUT_OF_RANGE, S.RESOURCE_EXHAUSTED, ...mutating],
  DeleteVolume: [S.OK, S.INVALID_ARGUMENT, S.FAILED_PRECONDITION, ...mutating],
  ControllerPublishVolume: [S.UNIMPLEMENTED],
  ControllerUnpublishVolume: [S.UNIMPLEMENTED],
  ValidateVolumeCapabilities: [S.OK, S.INVALID_ARGUMENT, S.NOT_FOUND],
  ListVolumes: [S.OK, S.INVALID_ARGUMENT, S.ABORTED],
  ControllerListVolumeHealth: [S.OK, S.INVALID_ARGUMENT, S.ABORTED],
  ControllerGetVolumeHealth: [S.OK, S.INVALID_ARGUMENT, S.NOT_FOUND],
  GetCapacity: [S.OK],
  ControllerGetCapabilities: [S.OK],
  CreateSnapshot: [S.OK, S.INVALID_ARGUMENT, S.ALREADY_EXISTS, S.NOT_FOUND, S.RESOURCE_EXHAUSTED, S.FAILED_PRECONDITION, ...mutating],
  DeleteSnapshot: [S.OK, S.INVALID_ARGUMENT, S.FAILED_PRECONDITION, ...mutating],
  ListSnapshots: [S.OK, S.INVALID_ARGUMENT, S.ABORTED],
  GetSnapshot: [S.OK, S.INVALID_ARGUMENT, S.NOT_FOUND],
  ControllerExpandVolume: [S.OK, S.INVALID_ARGUMENT, S.NOT_FOUND, S.OUT_OF_RANGE, S.FAILED_PRECONDITION, S.RESOURCE_EXHAUSTED, ...mutating],
  ControllerGetVolume: [S.OK, S.INVALID_ARGUMENT, S.NOT_FOUND],
  ControllerModifyVolume: [S.OK, S.INVALID_ARGUMENT, S.NOT_FOUND, ...mutating],
  NodeStageVolume: [S.OK, S.INVALID_ARGUMENT, S.NOT_FOUND, S.ALREADY_EXISTS, S.FAILED_PRECONDITION, ...mutating],
  NodeUnstageVolume: [S.OK, S.INVALID_ARGUMENT, S.NOT_FOUND, S.FAILED_PRECONDITION, ...mutating],
  NodePublishVolume: [S.OK, S.INVALID_ARGUMENT, S.NOT_FOUND, S.ALREADY_EXISTS, S.FAILED_PRECONDITION, ...mutating],
  NodeUnpublishVolume: [S.OK, S.INVALID_ARGUMENT, S.NOT_FOUND, S.FAILED_PRECONDITION, ...mutating],
  NodeGetVolumeStats: [S.OK, S.INVALID_ARGUMENT, S.NOT_FOUND],
  NodeGetVolumeHealth: [S.OK, S.INVALID_ARGUMENT, S.NOT_FOUND],
  NodeGetStorageHealth: [S.OK],
  NodeExpandVolume: [S.OK, S.INVALID_ARGUMENT, S.NOT_FOUND, S.OUT_OF_RANGE, S.FAILED_PRECONDITION, ...mutating],
  NodeGetCapabilities: [S.OK],
  NodeGetInfo: [S.OK],
};

/** The RPCs that take a per-volume lock and so may answer ABORTED to a concurrent call. */
const locked = new Set([
  'CreateVolume',
  'DeleteVolume',
  'CreateSnapshot',
  'DeleteSnapshot',
  'ControllerExpandVolume',
  'ControllerModifyVolume',
  'NodeStageVolume',
  'NodeUnstageVolume',
  'NodePublishVolume',
  'NodeUnpublishVolume',
  'NodeExpandVolume',
]);

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const obj = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** DESIGN.md: names and ids have no "..", no NUL, no "/", a bounded length (128 bytes, as csi-sanity and badInput.test.ts use). */
export function identifierProblem(v: string): string | undefined {
  if (v === '') return 'empty';
  if (bytes(v) > 128) return 'longer than 128 bytes';
  if (v.includes('\0')) return 'a NUL byte';
  if (v.includes('/')) return 'a "/"';
  if (v.includes('..')) return 'a ".."';
  if (v === '.') return '"."';
  return undefined;
}

/** Node volume ids may also be static EFS handles (`fs-…:/path`), whose exact grammar is left to the driver; "..", NUL and length still count. */
function nodeVolumeIdProblem(v: string): string | undefined {
  const efsLike = (v.startsWith('efs:') || /^fs-[0-9a-f]+(:|$)/.test(v)) && v.includes('/');
  if (!efsLike) return identifierProblem(v);
  if (bytes(v) > 128) return 'longer than 128 bytes';
  if (v.includes('\0')) return 'a NUL byte';
  if (v.split(/[/:]/).includes('..')) return 'a ".." segment';
  return undefined;
}

/** CSI: staging and target paths are absolute; DESIGN.md: no "..", no NUL, bounded. */
export function pathProblem(v: string): string | undefined {
  if (v === '') return 'empty';
  if (v.includes('\0')) return 'a NUL byte';
  if (bytes(v) > 4096) return 'longer than 4096 bytes';
  if (!v.startsWith('/')) return 'relative';
  if (v.split('/').includes('..')) return 'a ".." segment';
  return undefined;
}

const knownFsTypes = new Set(['', 'nfs', 'nfs4', 'efs']);
/** DESIGN.md: no injection through commas or spaces; flags are `key` or `key=value` words. */
const flagWord = /^[A-Za-z0-9_.-]+(=[A-Za-z0-9_.:/@+-]+)?$/;

/** Why a filesystem driver cannot serve a capability, or undefined. */
export function capabilityProblem(v: unknown): string | undefined {
  const cap = obj(v);
  if (!cap) return 'missing';
  const mode = obj(cap.access_mode)?.mode;
  if (!(validModes as readonly unknown[]).includes(mode)) return `access mode ${String(mode)}`;
  if (cap.block) return 'block access';
  const mount = obj(cap.mount);
  if (!mount) return 'no access type';
  if (!knownFsTypes.has(str(mount.fs_type))) return `fs_type ${JSON.stringify(cut(str(mount.fs_type), 30))}`;
  const flags = Array.isArray(mount.mount_flags) ? (mount.mount_flags as unknown[]) : [];
  const bad = flags.find((f) => !flagWord.test(str(f)));
  if (bad !== undefined) return `mount flag ${JSON.stringify(cut(str(bad), 30))}`;
  return undefined;
}

const enormous = 2 ** 50;

/** Capacity ranges: negative values, required above limit, and (where `enormousBad`) more than any share holds. */
function rangeProblem(v: unknown, enormousBad: boolean): string | undefined {
  const r = obj(v);
  if (!r) return undefined;
  const required = BigInt(str(r.required_bytes) || '0');
  const limit = BigInt(str(r.limit_bytes) || '0');
  if (required < 0n || limit < 0n) return 'a negative capacity';
  if (limit > 0n && required > limit) return 'required_bytes above limit_bytes';
  if (enormousBad && required >= BigInt(enormous)) return 'an enormous required_bytes';
  return undefined;
}

/** A page token is '' or one the driver issued (its format is the driver's own: base64url of `p1:<id>`). */
function tokenProblem(v: string): string | undefined {
  if (v === '') return undefined;
  const text = Buffer.from(v, 'base64url').toString('utf8');
  return text.startsWith('p1:') && encodePageToken(text.slice(3)) === v ? undefined : 'a token the driver never issued';
}

/** parameters.mountOptions values whose verdict is clear from the NFS option allowlist in docs/operating-guide.md. */
const goodMountOptions = new Set(['', 'hard,nfsvers=4.1', 'nosuid,nodev']);
const openMountOptions = new Set(['hard, soft']);

/** docs/security.md: staging and target paths are under --kubelet-dir and outside the driver's share and state directories. */
export interface PathPolicy {
  kubeletDir: string;
  forbidden: string[];
  /** Symlinks in the kubelet directory: a path through one lands elsewhere and must be refused. */
  symlinks: string[];
  /** Another driver's mount points in the kubelet directory: never adopted, bound or unmounted. */
  foreignMounts: string[];
}

const within = (p: string, dir: string): boolean => p === dir || p.startsWith(`${dir}/`);

/** Why a clean absolute path is not one the driver may mount on or unmount. */
function policyProblem(v: string, policy: PathPolicy): string | undefined {
  const p = path.normalize(v).replace(/(.)\/+$/, '$1');
  if (!within(p, policy.kubeletDir) || p === policy.kubeletDir) return 'outside the kubelet directory';
  const own = policy.forbidden.find((dir) => within(p, dir) || within(dir, p));
  if (own) return `overlaps the driver's own ${own}`;
  return policy.symlinks.some((l) => within(p, l)) ? 'goes through a symlink' : undefined;
}

type Check = (req: Request, add: (why: string | undefined, codes: status[]) => void, policy: PathPolicy) => void;

const IA = S.INVALID_ARGUMENT;
const id =
  (field: string, node = false): Check =>
  (req, add) =>
    add(prefixed(field, (node ? nodeVolumeIdProblem : identifierProblem)(str(req[field]))), [IA]);
/** A path the driver mounts on or unmounts: valid, and allowed by the path policy. */
const mountPath =
  (field: string, codes: status[] = [IA]): Check =>
  (req, add, policy) => {
    const v = str(req[field]);
    const why = pathProblem(v) ?? policyProblem(v, policy);
    if (why) add(`${field}: ${why}`, codes);
    // INVALID_ARGUMENT when a mount lies below it: a stage there would cover that mount.
    else if (policy.foreignMounts.includes(path.normalize(v).replace(/(.)\/+$/, '$1')))
      add(`${field}: another driver's mount`, [S.FAILED_PRECONDITION, IA]);
  };
const optionalPath =
  (field: string, codes: status[]): Check =>
  (req, add) => {
    if (str(req[field])) add(prefixed(field, pathProblem(str(req[field]))), codes);
  };
/** NodeGetVolumeStats / NodeExpandVolume: a relative volume_path is a path where the volume is not (csi-sanity expects NOT_FOUND). */
const volumePath: Check = (req, add) => {
  const v = str(req.volume_path);
  if (v === '' || v.startsWith('/')) add(prefixed('volume_path', pathProblem(v)), [IA]);
  else add(prefixed('volume_path', pathProblem(v)), [S.NOT_FOUND, IA]);
};
const requiredCap =
  (field: string): Check =>
  (req, add) =>
    add(prefixed(field, capabilityProblem(req[field])), [IA, S.FAILED_PRECONDITION]);
const optionalCap =
  (field: string): Check =>
  (req, add) => {
    if (req[field] != null) add(prefixed(field, capabilityProblem(req[field])), [IA, S.FAILED_PRECONDITION]);
  };
const capList: Check = (req, add) => {
  const caps = Array.isArray(req.volume_capabilities) ? (req.volume_capabilities as unknown[]) : [];
  if (caps.length === 0) add('volume_capabilities: empty', [IA]);
  for (const c of caps) add(prefixed('volume_capabilities', capabilityProblem(c)), [IA, S.FAILED_PRECONDITION]);
};
const paging: Check = (req, add) => {
  if (typeof req.max_entries === 'number' && req.max_entries < 0) add('max_entries: negative', [IA]);
  add(prefixed('starting_token', tokenProblem(str(req.starting_token))), [S.ABORTED]);
};

function prefixed(field: string, why: string | undefined): string | undefined {
  return why ? `${field}: ${why}` : undefined;
}

const createVolumeChecks: Check[] = [
  id('name'),
  capList,
  (req, add) =>
    add(prefixed('capacity_range', rangeProblem(req.capacity_range, true)), [IA, S.OUT_OF_RANGE, S.ALREADY_EXISTS, S.RESOURCE_EXHAUSTED]),
  (req, add) => {
    for (const [k, v] of Object.entries(obj(req.parameters) ?? {})) {
      // protobufjs decodes maps into plain objects, where a "__proto__" key cannot land: the driver never sees it.
      if (k.startsWith('csi.storage.k8s.io/') || k === '__proto__') continue;
      if (k !== 'mountOptions') add(`parameters: unknown key ${JSON.stringify(cut(k, 30))}`, [IA]);
      else if (!goodMountOptions.has(v as string) && !openMountOptions.has(v as string) && typeof v === 'string')
        add(`parameters.mountOptions ${JSON.stringify(cut(v, 30))}`, [IA]);
    }
  },
  (req, add) => {
    const src = obj(req.volume_content_source);
    if (!src) return;
    const snap = obj(src.snapshot);
    const vol = obj(src.volume);
    if (snap) add(prefixed('volume_content_source.snapshot.snapshot_id', identifierProblem(str(snap.snapshot_id))), [IA]);
    else if (vol) add(prefixed('volume_content_source.volume.volume_id', identifierProblem(str(vol.volume_id))), [IA]);
    else add('volume_content_source: neither snapshot nor volume', [IA]);
  },
];

/** What each RPC must refuse. */
const checks: Readonly<Record<string, readonly Check[]>> = {
  CreateVolume: createVolumeChecks,
  DeleteVolume: [id('volume_id')],
  ValidateVolumeCapabilities: [
    id('volume_id'),
    (req, add) => ((req.volume_capabilities as unknown[] | undefined)?.length ? undefined : add('volume_capabilities: empty', [IA])),
  ],
  ListVolumes: [paging],
  ControllerListVolumeHealth: [paging],
  ControllerGetVolumeHealth: [id('volume_id')],
  CreateSnapshot: [
    id('name'),
    id('source_volume_id'),
    (req, add) => {
      for (const k of Object.keys(obj(req.parameters) ?? {}))
        if (!k.startsWith('csi.storage.k8s.io/') && k !== '__proto__') add(`parameters: unknown key ${JSON.stringify(cut(k, 30))}`, [IA]);
    },
  ],
  DeleteSnapshot: [id('snapshot_id')],
  ListSnapshots: [paging],
  GetSnapshot: [id('snapshot_id')],
  ControllerExpandVolume: [
    id('volume_id'),
    (req, add) =>
      add(req.capacity_range == null ? 'capacity_range: missing' : prefixed('capacity_range', rangeProblem(req.capacity_range, true)), [
        IA,
        S.OUT_OF_RANGE,
        S.NOT_FOUND,
      ]),
    optionalCap('volume_capability'),
  ],
  ControllerGetVolume: [id('volume_id')],
  NodeStageVolume: [
    id('volume_id', true),
    mountPath('staging_target_path'),
    requiredCap('volume_capability'),
    (req, add) => {
      const dir = obj(req.volume_context)?.volumeDir;
      if (dir !== undefined && dir !== `volumes/${str(req.volume_id)}/data`)
        add("volume_context.volumeDir: another volume's directory", [IA]);
    },
  ],
  NodeUnstageVolume: [id('volume_id', true), mountPath('staging_target_path')],
  // A publish may first find its staging path not staged (FAILED_PRECONDITION), which a bad one never is.
  NodePublishVolume: [
    id('volume_id', true),
    mountPath('target_path'),
    mountPath('staging_target_path', [IA, S.FAILED_PRECONDITION]),
    requiredCap('volume_capability'),
  ],
  NodeUnpublishVolume: [id('volume_id', true), mountPath('target_path')],
  NodeGetVolumeStats: [id('volume_id', true), volumePath, optionalPath('staging_target_path', [IA, S.NOT_FOUND])],
  NodeGetVolumeHealth: [id('volume_id', true), optionalPath('volume_publish_path', [IA]), optionalPath('staging_target_path', [IA])],
  NodeExpandVolume: [
    id('volume_id', true),
    optionalCap('volume_capability'),
    volumePath,
    (req, add) => add(prefixed('capacity_range', rangeProblem(req.capacity_range, false)), [IA, S.OUT_OF_RANGE, S.NOT_FOUND]),
  ],
};

/** The expectation for one request. */
export function expectationFor(rpc: string, req: Request, policy: PathPolicy): Expectation {
  const base = baseCodes[rpc];
  if (!base) throw new Error(`no expectation for ${rpc}`);
  const problems: string[] = [];
  const refusal = new Set<status>();
  for (const check of checks[rpc] ?? []) {
    check(
      req,
      (why, codes) => {
        if (!why) return;
        problems.push(why);
        for (const c of codes) refusal.add(c);
      },
      policy,
    );
  }
  if (problems.length === 0) return { allowed: new Set(base), problems };
  if (locked.has(rpc)) refusal.add(S.ABORTED);
  if (base.includes(S.UNIMPLEMENTED)) refusal.add(S.UNIMPLEMENTED);
  return { allowed: refusal, problems };
}
