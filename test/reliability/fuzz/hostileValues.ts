import type { Prng } from './prng';

/** Bigger than any sane field, and past 64 KiB. */
export const hugeAscii = 'x'.repeat(65 * 1024 + 3);
/** 80 KB of four-byte characters. */
export const hugeEmoji = '\u{1F4E6}'.repeat(20 * 1024);
/** 64 KiB of combining marks on one letter. */
export const hugeCombining = 'e' + '\u0301'.repeat(32 * 1024);

/**
 * Strings no field should be surprised by: empty, huge, right-to-left, NUL and control bytes,
 * emoji, combining marks, lone surrogates (which no UTF-8 text can hold), shell and format
 * metacharacters, path pieces, JavaScript property names, and length boundaries.
 */
export const hostileStrings: readonly string[] = [
  '',
  ' ',
  'a',
  hugeAscii,
  hugeEmoji,
  hugeCombining,
  '\u202Epvc-evil\u202C',
  '\u0627\u0644\u062D\u062C\u0645',
  'pvc-\0-nul',
  '\0',
  '\u{1F4A5}\u{1F9E8}\u{1F480}',
  'z\u0335\u0321\u0330a\u0336\u031B\u0323l\u0334g\u0338o',
  'e\u0301',
  '\uD800',
  'pvc-\uDFFF-lone',
  '\uFEFFbom',
  '\uFFFF\uFFFE',
  'line\nbreak',
  'cr\r\nlf',
  'tab\tbed',
  '\u001b[31mred\u001b[0m',
  '\u0007\u0008\u007f',
  '$(touch /tmp/fuzz-pwned)',
  '`id`',
  '; rm -rf / #',
  '| cat /etc/shadow',
  '&& reboot',
  "it's",
  '"quoted"',
  '\\',
  '%s%n%x',
  '{{.}}',
  '${HOME}',
  '..',
  '.',
  '...',
  '../../etc',
  '../../../../../../etc/passwd',
  '/etc/passwd',
  '//',
  'a/b',
  './x',
  '~root',
  'C:\\Windows',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'null',
  'undefined',
  'NaN',
  '-1',
  '0',
  '1e309',
  '{"a":1}',
  'p'.repeat(128),
  'p'.repeat(129),
  '\u00E9'.repeat(64),
  '\u00E9'.repeat(65),
  'h-0000000000000000000000000000000000000000',
];

/** Mount flags and options: harmless ones, ones that change what a mount is, and injection attempts. */
export const hostileMountFlags: readonly string[] = [
  'bind',
  'rbind',
  'remount',
  'nosuid',
  'nodev',
  'noexec',
  'ro',
  'rw',
  'noatime',
  'nfsvers=4.1',
  'vers=3',
  'sec=krb5p',
  'a,b',
  'ro,remount',
  '-o x',
  '-oremount',
  '--bind',
  'x y',
  'rw;reboot',
  'foo=$(id)',
  'a=`id`',
  'context="system_u:object_r"',
  'uid=0',
  'x-systemd.automount',
  '',
  ' ',
  'flag\n',
  hugeAscii,
  '\u{1F4A5}',
  'opt=\0',
];

/** Values for `parameters.mountOptions`. */
export const hostileMountOptions: readonly string[] = [
  'hard,nfsvers=4.1',
  'nosuid,nodev',
  'a,b',
  ',',
  'bind',
  'remount',
  '-o x',
  'rw;reboot',
  'hard, soft',
  'nfsvers=4.1,,hard',
  '$(id)',
  hugeAscii,
  '\u{1F4A5}',
  '',
];

/** File system types a capability might name. */
export const hostileFsTypes: readonly string[] = [
  '',
  'nfs',
  'nfs4',
  'efs',
  'ext4',
  'xfs',
  'tmpfs',
  'proc',
  'nfs,ro',
  '../nfs',
  hugeAscii,
  '\u{1F4A5}',
  'NFS',
];

export const validModes = [
  'SINGLE_NODE_WRITER',
  'SINGLE_NODE_READER_ONLY',
  'MULTI_NODE_READER_ONLY',
  'MULTI_NODE_SINGLE_WRITER',
  'MULTI_NODE_MULTI_WRITER',
  'SINGLE_NODE_SINGLE_WRITER',
  'SINGLE_NODE_MULTI_WRITER',
] as const;

/** Access modes outside the spec's list: UNKNOWN, numbers no enum has, a negative number. */
export const hostileModes: ReadonlyArray<string | number> = ['UNKNOWN', 0, 8, 99, 2147483647, -1];

const GiB = 1024 ** 3;

/** int64 capacities as strings (the wire type): negative, zero, boundaries, 2^53 + 1, 2^63 - 1. */
export const hostileCapacities: readonly string[] = [
  '0',
  '1',
  '1023',
  String(1024 ** 2),
  String(GiB),
  String(10 * GiB),
  String(2 ** 50),
  '9007199254740993',
  '9223372036854775807',
  '-1',
  '-1073741824',
  '-9223372036854775808',
];

/** int32 page sizes: negative, zero, small, the largest. */
export const hostileMaxEntries: readonly number[] = [0, 1, 2, 3, 1000, 2147483647, -1, -2147483648];

/** Characters to build a key or value from when a fresh random string is wanted. */
const alphabet = ['a', 'Z', '0', '-', '_', '.', '/', ' ', ',', '=', '\u00E9', '\u{1F4A5}', '\0', '\n', '..', '\u202E', '\uD800'];

/** A short random string over an alphabet rich in troublemakers. */
export function randomString(rng: Prng, maxLen = 24): string {
  let s = '';
  const n = rng.int(maxLen + 1);
  for (let i = 0; i < n; i++) s += rng.pick(alphabet);
  return s;
}

/** One hostile string: mostly from the catalogue, sometimes freshly random. */
export function hostileString(rng: Prng): string {
  return rng.chance(0.8) ? rng.pick(hostileStrings) : randomString(rng);
}

/** A map with hostile keys and values (JavaScript property names included). */
export function hostileMap(rng: Prng, maxEntries = 4): Record<string, string> {
  const out: Record<string, string> = {};
  const n = rng.int(maxEntries + 1);
  for (let i = 0; i < n; i++)
    Object.defineProperty(out, hostileString(rng), { value: hostileString(rng), enumerable: true, writable: true, configurable: true });
  return out;
}

/** An opaque-looking page token that this driver never issued. */
export function hostileToken(rng: Prng): string {
  return rng.pick([
    () => rng.hex(rng.between(1, 40)),
    () => Buffer.from(rng.hex(16), 'hex').toString('base64url'),
    () => Buffer.from(`p2:${rng.hex(8)}`).toString('base64url'),
    () => `${Buffer.from('p1:fuzz-v0').toString('base64url')}==`,
    () => 'p1:fuzz-v0',
    () => hostileString(rng),
    // Well-formed tokens for ids that cannot exist: the driver may answer them.
    () => Buffer.from('p1:').toString('base64url'),
    () => Buffer.from('p1:../../etc').toString('base64url'),
    () => Buffer.from(`p1:${'\u{1F4A5}'.repeat(3)}`).toString('base64url'),
  ])();
}
