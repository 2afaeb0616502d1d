import { isIP } from 'node:net';
import { parseMountOptions } from '../config';

/**
 * Which option set a mount accepts: `nfs` for `mount -t nfs4`, `efs` adds the options of
 * amazon-efs-utils' `mount -t efs` helper.
 */
export type MountOptionFlavour = 'nfs' | 'efs';

/** A mount option that is malformed or not on the allowlist. */
export class MountOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MountOptionError';
  }
}

type ValueCheck = (value: string) => boolean;

const uint =
  (min: number, max: number): ValueCheck =>
  (v) =>
    /^\d{1,10}$/.test(v) && Number(v) >= min && Number(v) <= max;
const oneOf =
  (...values: string[]): ValueCheck =>
  (v) =>
    values.includes(v);
const hexId =
  (prefix: string): ValueCheck =>
  (v) =>
    new RegExp(`^${prefix}-[0-9a-f]{8,40}$`).test(v);
const word: ValueCheck = (v) => /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(v);

/** Options that take no value. A `no` prefix is listed explicitly where the kernel knows it. */
const nfsFlags = new Set([
  'hard',
  'soft',
  'softerr',
  'intr',
  'nointr',
  'ac',
  'noac',
  'cto',
  'nocto',
  'sharecache',
  'nosharecache',
  'resvport',
  'noresvport',
  'fsc',
  'nofsc',
  'rdirplus',
  'nordirplus',
  'trunkdiscovery',
  'notrunkdiscovery',
  'atime',
  'noatime',
  'diratime',
  'nodiratime',
  'relatime',
  'norelatime',
  'strictatime',
  'nostrictatime',
  'lazytime',
  'nolazytime',
  'suid',
  'nosuid',
  'dev',
  'nodev',
  'exec',
  'noexec',
  'sync',
  'async',
  'fg',
  '_netdev',
]);

/** Options with a value and what the value may be. */
const nfsValued: Record<string, ValueCheck> = {
  nfsvers: oneOf('4', '4.0', '4.1', '4.2'),
  vers: oneOf('4', '4.0', '4.1', '4.2'),
  minorversion: uint(0, 2),
  port: uint(1, 65535),
  proto: oneOf('tcp', 'tcp6', 'rdma', 'rdma6'),
  rsize: uint(1024, 16 * 1024 * 1024),
  wsize: uint(1024, 16 * 1024 * 1024),
  timeo: uint(1, 6_000_000),
  retrans: uint(0, 1000),
  retry: uint(0, 100_000),
  acregmin: uint(0, 3600 * 24),
  acregmax: uint(0, 3600 * 24),
  acdirmin: uint(0, 3600 * 24),
  acdirmax: uint(0, 3600 * 24),
  actimeo: uint(0, 3600 * 24),
  nconnect: uint(1, 16),
  max_connect: uint(1, 128),
  sec: (v) => v.split(':').every((s) => ['sys', 'krb5', 'krb5i', 'krb5p', 'none'].includes(s)),
  lookupcache: oneOf('all', 'none', 'pos', 'positive'),
  local_lock: oneOf('none', 'all', 'flock', 'posix'),
  xprtsec: oneOf('none', 'tls', 'mtls'),
  clientaddr: (v) => isIP(v) !== 0,
};

/** amazon-efs-utils options (`mount -t efs`), on top of the NFS ones. */
const efsFlags = new Set(['tls', 'notls', 'iam', 'ocsp', 'noocsp', 'crossaccount']);
const efsValued: Record<string, ValueCheck> = {
  accesspoint: hexId('fsap'),
  mounttargetip: (v) => isIP(v) !== 0,
  awsprofile: word,
  region: (v) => /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(v),
  az: (v) => /^[a-z]{2}(-[a-z]+)+-\d{1,2}[a-z]$/.test(v) || /^[a-z]{3,4}\d?-az\d{1,2}$/.test(v),
  tlsport: uint(1, 65535),
  verify: uint(0, 10),
};

/** The efs-utils options, which a plain `mount -t nfs4` does not understand. */
export function isEfsOnlyOption(opt: string): boolean {
  const name = opt.split('=', 1)[0] ?? '';
  return efsFlags.has(name) || name in efsValued;
}

/** Bounds of one option list: a parameter or context value, and a list of mount flags. */
export const mountOptionLimits = Object.freeze({ textBytes: 1024, count: 64, optionBytes: 256 });

/**
 * Checks mount options against the allowlist of the flavour. Syntax first (a comma list of
 * `key` or `key=value`, so nothing can smuggle another option or argument), then the name,
 * then the value. `ro`/`rw` are refused: read-only comes from the access mode or `readonly`,
 * and a read-only staging mount would break the health probe's write check.
 * @throws MountOptionError naming the first bad option.
 */
export function checkMountOptions(opts: readonly string[], flavour: MountOptionFlavour): string[] {
  if (opts.length > mountOptionLimits.count) throw new MountOptionError(`${opts.length} mount options; at most ${mountOptionLimits.count}`);
  for (const opt of opts) {
    if (opt.length > mountOptionLimits.optionBytes)
      throw new MountOptionError(`a mount option of ${opt.length} characters; at most ${mountOptionLimits.optionBytes}`);
    if (!/^[A-Za-z0-9_.-]+(=[A-Za-z0-9_.:/@+-]+)?$/.test(opt)) throw new MountOptionError(`invalid mount option "${opt}"`);
    const eq = opt.indexOf('=');
    const name = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? undefined : opt.slice(eq + 1);
    if (name === 'ro' || name === 'rw')
      throw new MountOptionError(`mount option "${opt}" is not allowed: use a read-only access mode or readonly instead`);
    if (name === 'nfsvers' || name === 'vers') {
      if (value === undefined || !(nfsValued.nfsvers as ValueCheck)(value))
        throw new MountOptionError(`mount option "${opt}": this driver mounts NFSv4 (4, 4.0, 4.1 or 4.2)`);
      continue;
    }
    const efs = flavour === 'efs';
    const isFlag = nfsFlags.has(name) || (efs && efsFlags.has(name));
    const check = nfsValued[name] ?? (efs ? efsValued[name] : undefined);
    if (isFlag) {
      if (value !== undefined) throw new MountOptionError(`mount option "${name}" takes no value`);
    } else if (check) {
      if (value === undefined || !check(value)) throw new MountOptionError(`mount option "${opt}" has an invalid value`);
    } else {
      const hint = !efs && isEfsOnlyOption(opt) ? ' (an amazon-efs-utils option: needs mount -t efs)' : '';
      throw new MountOptionError(`mount option "${name}" is not supported${hint}`);
    }
  }
  return [...opts];
}

/** Parses a comma list and checks it (see checkMountOptions). */
export function parseCheckedMountOptions(text: string, flavour: MountOptionFlavour): string[] {
  if (text.length > mountOptionLimits.textBytes)
    throw new MountOptionError(`mount options of ${text.length} characters; at most ${mountOptionLimits.textBytes}`);
  let opts: string[];
  try {
    opts = parseMountOptions(text);
  } catch (err) {
    throw new MountOptionError((err as Error).message);
  }
  return checkMountOptions(opts, flavour);
}

/** Options that cancel each other share a group; the last one given wins. */
const groups: Record<string, string> = {
  vers: 'nfsvers',
  soft: 'hard',
  softerr: 'hard',
  noatime: 'atime',
  relatime: 'atime',
  norelatime: 'atime',
  strictatime: 'atime',
  nostrictatime: 'atime',
  async: 'sync',
  notls: 'tls',
};

function groupOf(opt: string): string {
  const name = opt.split('=', 1)[0] ?? opt;
  if (groups[name]) return groups[name];
  if (name.startsWith('no') && (nfsFlags.has(name.slice(2)) || efsFlags.has(name.slice(2)))) return name.slice(2);
  return name;
}

/**
 * Merges option lists, later lists overriding earlier ones: `nfsvers=4.2` replaces
 * `nfsvers=4.1`, `soft` replaces `hard`. An overridden option moves to the position of its
 * override, so the result reads as "defaults, then what was asked".
 */
export function mergeMountOptions(...lists: ReadonlyArray<readonly string[]>): string[] {
  const out = new Map<string, string>();
  for (const list of lists) {
    for (const opt of list) {
      const g = groupOf(opt);
      out.delete(g);
      out.set(g, opt);
    }
  }
  return [...out.values()];
}

/** The server port named by `port=` in the options, else the NFS default 2049. */
export function nfsPortOf(opts: readonly string[]): number {
  let port = 2049;
  for (const o of opts) {
    const m = /^port=(\d+)$/.exec(o);
    if (m && Number(m[1]) > 0 && Number(m[1]) <= 65535) port = Number(m[1]);
  }
  return port;
}

/** Flags the node's options may set that a per-volume option would switch off. */
const hardeningFlags: ReadonlyArray<readonly [strong: string, weak: string]> = [
  ['nosuid', 'suid'],
  ['nodev', 'dev'],
  ['noexec', 'exec'],
  ['tls', 'notls'],
];

/** Options whose values are ordered from weak to strong. */
const rankedValues: Record<string, readonly string[]> = {
  sec: ['none', 'sys', 'krb5', 'krb5i', 'krb5p'],
  xprtsec: ['none', 'tls', 'mtls'],
};

/** The rank of a (colon-separated) value: a list is as weak as its weakest entry. */
function rankOf(name: string, value: string): number {
  const order = rankedValues[name] ?? [];
  return Math.min(...value.split(':').map((v) => order.indexOf(v)));
}

function lastValue(opts: readonly string[], name: string): string | undefined {
  let v: string | undefined;
  for (const o of opts) if (o.startsWith(`${name}=`)) v = o.slice(name.length + 1);
  return v;
}

/**
 * The node's mount options are a floor: per-volume options may add to them but not weaken
 * `nosuid`, `nodev`, `noexec`, `tls`, `sec=` or `xprtsec=` (a weaker flavour, or a list that
 * admits one). A weakening option is refused rather than dropped, so that whoever wrote it
 * learns why. `ro`/`rw` are refused in every list (see checkMountOptions), so no list can
 * lift a read-only mount either.
 * @throws MountOptionError naming the option and what it would weaken.
 */
export function checkAgainstFloor(floor: readonly string[], perVolume: readonly string[]): void {
  for (const [strong, weak] of hardeningFlags) {
    if (floor.includes(strong) && perVolume.includes(weak)) {
      throw new MountOptionError(`mount option "${weak}" would weaken "${strong}" of the node's --nfs-mount-options`);
    }
  }
  for (const name of Object.keys(rankedValues)) {
    const required = lastValue(floor, name);
    if (required === undefined) continue;
    for (const o of perVolume) {
      if (!o.startsWith(`${name}=`)) continue;
      const asked = o.slice(name.length + 1);
      if (rankOf(name, asked) < rankOf(name, required)) {
        throw new MountOptionError(`mount option "${o}" is weaker than "${name}=${required}" of the node's --nfs-mount-options`);
      }
    }
  }
}
