import * as path from 'node:path';
import { invalidArgument } from './csiError';
import type { CapacityRange, VolumeCapability } from './csiTypes';

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

/** Capacity in bytes for a range, or the default when none is asked. */
export function capacityFor(range: CapacityRange | null, defaultBytes: number): { bytes: number; limit: number } {
  const required = Number(range?.required_bytes ?? 0);
  const limit = Number(range?.limit_bytes ?? 0);
  if (!Number.isSafeInteger(required) || required < 0) throw invalidArgument('capacity_range.required_bytes is invalid');
  if (!Number.isSafeInteger(limit) || limit < 0) throw invalidArgument('capacity_range.limit_bytes is invalid');
  if (limit > 0 && required > limit) throw invalidArgument('capacity_range.required_bytes is larger than limit_bytes');
  const bytes = required > 0 ? required : limit > 0 ? Math.min(limit, defaultBytes) : defaultBytes;
  return { bytes, limit };
}
