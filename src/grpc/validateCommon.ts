import * as path from 'node:path';
import { invalidArgument } from './csiError';
import type { CapacityRange, VolumeCapability } from './csiTypes';
import { parseInt64 } from '../int64';

/** The access modes a shared filesystem can serve: all of them. */
const knownModes = new Set([
  'SINGLE_NODE_WRITER',
  'SINGLE_NODE_READER_ONLY',
  'MULTI_NODE_READER_ONLY',
  'MULTI_NODE_SINGLE_WRITER',
  'MULTI_NODE_MULTI_WRITER',
  'SINGLE_NODE_SINGLE_WRITER',
  'SINGLE_NODE_MULTI_WRITER',
]);

const knownFsTypes = new Set(['', 'nfs', 'nfs4', 'efs']);

/** Why a capability cannot be served, or undefined when it can. */
export function capabilityProblem(cap: VolumeCapability): string | undefined {
  if (!cap.access_mode) return 'access_mode is required';
  if (!knownModes.has(String(cap.access_mode.mode))) return `access mode ${String(cap.access_mode.mode)} is not supported`;
  if (cap.access_type === 'block' || cap.block) return 'block access is not supported: this driver serves filesystem volumes';
  if (cap.access_type !== 'mount' || !cap.mount) return 'access_type is required (mount)';
  if (!knownFsTypes.has(cap.mount.fs_type)) return `fs_type "${cap.mount.fs_type}" is not supported (use nfs or leave it empty)`;
  for (const flag of cap.mount.mount_flags) {
    if (!/^[A-Za-z0-9_.-]+(=[A-Za-z0-9_.:/@+-]+)?$/.test(flag)) return `mount flag "${flag}" is not allowed`;
  }
  return undefined;
}

/** Rejects a missing or unservable capability with INVALID_ARGUMENT. */
export function requireCapability(field: string, cap: VolumeCapability | null | undefined): VolumeCapability {
  if (!cap) throw invalidArgument(`${field} is required`);
  const problem = capabilityProblem(cap);
  if (problem) throw invalidArgument(`${field}: ${problem}`);
  return cap;
}

/** Rejects an empty list or any unservable capability. */
export function requireCapabilities(field: string, caps: VolumeCapability[]): VolumeCapability[] {
  if (caps.length === 0) throw invalidArgument(`${field} is required`);
  caps.forEach((c, i) => requireCapability(`${field}[${i}]`, c));
  return caps;
}

/** Is a capability read-only by its access mode? */
export function isReadOnlyMode(cap: VolumeCapability): boolean {
  const m = String(cap.access_mode?.mode);
  return m === 'SINGLE_NODE_READER_ONLY' || m === 'MULTI_NODE_READER_ONLY';
}

/** A path from a request: absolute, normalised, no NUL, bounded. */
export function requireAbsolutePath(field: string, value: string): string {
  if (!value) throw invalidArgument(`${field} is required`);
  if (value.includes('\0')) throw invalidArgument(`${field} contains a NUL byte`);
  if (Buffer.byteLength(value) > 4096) throw invalidArgument(`${field} is too long`);
  if (!path.isAbsolute(value)) throw invalidArgument(`${field} must be an absolute path`);
  if (value.split('/').includes('..')) throw invalidArgument(`${field} must not contain ".."`);
  return path.normalize(value).replace(/\/+$/, '') || '/';
}

/** An int64 field of a request as an exact bigint; INVALID_ARGUMENT when it is negative or no int64. */
function byteField(field: string, value: unknown): bigint {
  // Wire int64 fields arrive as decimal strings (or numbers from hand-made requests); anything else is not a count.
  const text =
    value === undefined || value === null || value === ''
      ? '0'
      : typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint'
        ? String(value)
        : '[not a number]';
  const n = parseInt64(text);
  if (n === undefined) throw invalidArgument(`${field} is invalid: ${text.slice(0, 40)} is not a byte count between 0 and 2^63-1`);
  return n;
}

/** Capacity in bytes for a range, or the default when none is asked; exact int64 (bigint) throughout. */
export function capacityFor(range: CapacityRange | null, defaultBytes: bigint): { bytes: bigint; limit: bigint } {
  const required = byteField('capacity_range.required_bytes', range?.required_bytes);
  const limit = byteField('capacity_range.limit_bytes', range?.limit_bytes);
  if (limit > 0n && required > limit) throw invalidArgument('capacity_range.required_bytes is larger than limit_bytes');
  const bytes = required > 0n ? required : limit > 0n ? (limit < defaultBytes ? limit : defaultBytes) : defaultBytes;
  return { bytes, limit };
}
