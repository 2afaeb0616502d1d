import * as path from 'node:path';

/** An EFS volume handle as aws-efs-csi-driver writes it: `[efs:]fs-id[:path[:fsap-id]]`. */
export interface EfsVolumeHandle {
  fileSystemId: string;
  /** Absolute path inside the file system (or the access point's root); "/" when none is given. */
  path: string;
  accessPointId?: string;
}

/** A handle that starts like an EFS handle but is not a valid one. */
export class EfsHandleError extends Error {
  constructor(handle: string, why: string) {
    super(`invalid EFS volume handle "${handle}": ${why}`);
    this.name = 'EfsHandleError';
  }
}

const fileSystemIdPattern = /^fs-[0-9a-f]{8,40}$/;
const accessPointIdPattern = /^fsap-[0-9a-f]{8,40}$/;
const pathPattern = /^\/[A-Za-z0-9._@+=~/-]*$/;

/** `fs-` followed by 8 to 40 lower-case hex digits. */
export function isEfsFileSystemId(s: string): boolean {
  return fileSystemIdPattern.test(s);
}

/** Does this volume id claim to be an EFS handle (and must therefore parse as one)? */
export function looksLikeEfsHandle(volumeId: string): boolean {
  return volumeId.startsWith('efs:') || /^fs-[0-9a-f]+(:|$)/.test(volumeId);
}

/**
 * Parses a static EFS volume handle strictly: `fs-12345678`, `fs-12345678:/sub/path`,
 * `fs-12345678:/sub/path:fsap-0123456789abcdef0`, `fs-12345678::fsap-…`, each optionally
 * prefixed `efs:`. The path must be absolute, without `..`, and of plain characters.
 * @throws EfsHandleError
 */
export function parseEfsVolumeHandle(handle: string): EfsVolumeHandle {
  const body = handle.startsWith('efs:') ? handle.slice(4) : handle;
  const parts = body.split(':');
  if (parts.length > 3) throw new EfsHandleError(handle, 'more than three ":"-separated parts');
  const [fsId = '', rawPath = '', ap] = parts;
  if (!isEfsFileSystemId(fsId)) throw new EfsHandleError(handle, `"${fsId}" is not a file system id (fs-<hex>)`);
  let p = '/';
  if (rawPath !== '') {
    if (!pathPattern.test(rawPath)) throw new EfsHandleError(handle, 'the path must be absolute and of letters, digits and ._@+=~/-');
    if (rawPath.split('/').some((seg) => seg === '..' || seg === '.'))
      throw new EfsHandleError(handle, 'the path must not contain "." or ".." segments');
    p = path.posix.normalize(rawPath).replace(/\/+$/, '') || '/';
  }
  if (ap !== undefined && !accessPointIdPattern.test(ap))
    throw new EfsHandleError(handle, `"${ap}" is not an access point id (fsap-<hex>)`);
  return { fileSystemId: fsId, path: p, ...(ap !== undefined ? { accessPointId: ap } : {}) };
}

/** `fs-id.efs.<region>.amazonaws.com` (`.com.cn` in the China regions). */
export function efsDnsNameFor(fileSystemId: string, region: string): string {
  if (!isEfsFileSystemId(fileSystemId)) throw new Error(`"${fileSystemId}" is not an EFS file system id`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(region)) throw new Error(`"${region}" is not an AWS region`);
  return `${fileSystemId}.efs.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** The file system id and region of an EFS DNS name, or undefined for any other name. */
export function parseEfsDnsName(name: string): { fileSystemId: string; region: string } | undefined {
  const m = /^(fs-[0-9a-f]{8,40})\.efs\.([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.amazonaws\.com(?:\.cn)?$/.exec(name);
  return m && m[1] && m[2] ? { fileSystemId: m[1], region: m[2] } : undefined;
}

/**
 * The node-side check of a volume id: an EFS handle with a path (which contains "/") must
 * parse strictly; anything else follows the usual identifier rules (`check`). Node code never
 * uses a volume id as a path, so a valid handle is safe there.
 * @throws whatever `check` throws, or EfsHandleError
 */
export function checkNodeVolumeId(value: string, check: (value: string) => void): void {
  if (looksLikeEfsHandle(value) && value.includes('/') && Buffer.byteLength(value, 'utf8') <= 128) {
    parseEfsVolumeHandle(value);
    return;
  }
  check(value);
}
