import { isIP, isIPv6 } from 'node:net';
import * as path from 'node:path';
import { MountPlanError, MountUnsupportedError } from './backendErrors';
import { efsVolumeSource, type EfsEndpoint } from './efsMount';
import { efsDnsNameFor, isEfsFileSystemId, parseEfsDnsName } from './efsVolumeHandle';
import {
  checkAgainstFloor,
  checkMountOptions,
  isEfsOnlyOption,
  mergeMountOptions,
  nfsPortOf,
  type MountOptionFlavour,
} from './nfsMountOptions';
import type { VolumeSource } from './records';

/** The NFS settings of the driver (Config.nfs plus the efs-utils probe). */
export interface NfsMountSettings {
  /** --nfs-server: a host name, an address, or an EFS file system id; empty with --efs-dns-name only. */
  server: string;
  /** --nfs-share: the export path. */
  share: string;
  /** --nfs-mount-options, for mounts of the configured server. */
  mountOptions: readonly string[];
  efsRegion: string;
  /** --efs-dns-name: an EFS DNS name or a mount-target IP. */
  efsDnsName: string;
  /** Is amazon-efs-utils installed? Asked lazily, once per mount plan. */
  efsUtilsPresent: () => boolean;
  /** --nfs-allow-other-servers: may a volume name another server, or a path outside --nfs-share? */
  allowOtherServers?: boolean;
}

/** A plain NFS server. */
export interface PlainNfsEndpoint {
  kind: 'nfs';
  /** Name or address, IPv6 in brackets, as it goes before ":/path". */
  host: string;
}

export type NfsEndpoint = PlainNfsEndpoint | EfsEndpoint;

/** One mount to plan: where, and the per-volume options on top of the server's. */
export interface NfsMountRequest {
  /** A server as written in volume_context or a handle (empty: the configured one). */
  server: string;
  /** Absolute path on the server. */
  path: string;
  accessPointId?: string;
  /** Checked per-volume options (volume_context mountOptions, then capability mount_flags). */
  perVolume: readonly string[];
  /**
   * The path comes from volume_context `share`: without --nfs-allow-other-servers it must lie in
   * --nfs-share. (An EFS handle's path is not confined: the handle names the whole file system.)
   */
  confineToShare?: boolean;
  /**
   * A superblock of its own (`nosharecache`): a node volume mount, so that `umount -f` of one
   * hung volume aborts only that volume's requests, and per-volume options really apply.
   */
  isolated?: boolean;
}

const hostnamePattern = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const exportPathPattern = /^\/[A-Za-z0-9._@+=~/-]*$/;

/**
 * A server as it may appear before ":/path": a host name, an IPv4 address, an IPv6 address
 * (bracketed on output), or an EFS file system id. Anything else is refused.
 * @throws Error
 */
export function normalizeServer(server: string): string {
  const bare = server.startsWith('[') && server.endsWith(']') ? server.slice(1, -1) : server;
  if (isIPv6(bare)) return `[${bare}]`;
  if (isIP(bare) === 4 || isEfsFileSystemId(bare) || hostnamePattern.test(bare)) return bare;
  throw new Error(`"${server}" is not a host name, an IP address or an EFS file system id`);
}

/**
 * An absolute path on the server, normalised (no trailing slash, no "//"), without "." or
 * ".." segments and of plain characters (it becomes part of the mount device).
 * @throws Error
 */
export function normalizeExportPath(p: string): string {
  if (!exportPathPattern.test(p)) throw new Error(`"${p}" is not an absolute path of letters, digits and ._@+=~/-`);
  if (p.split('/').some((seg) => seg === '..' || seg === '.')) throw new Error(`"${p}" contains "." or ".." segments`);
  return path.posix.normalize(p).replace(/\/+$/, '') || '/';
}

/** Joins an export path and a relative directory below it, refusing anything that climbs out. */
export function joinExportPath(share: string, rel: string): string {
  if (rel.startsWith('/')) throw new Error(`"${rel}" must be relative to the share`);
  // Checked before joining: join() would resolve "a/../.." silently.
  if (rel !== '') normalizeExportPath(`/${rel}`);
  return normalizeExportPath(path.posix.join(normalizeExportPath(share), rel));
}

/**
 * Turns "mount server:/path with these options" into the exact mount (file system type,
 * device, options) for a plain NFS server or for EFS, and knows which server is the
 * configured one (whose --nfs-mount-options apply).
 */
export class NfsMountPlanner {
  /** The configured server as volume_context carries it (an EFS id, a name or an address). */
  readonly configuredServer: string;
  readonly share: string;
  private readonly baseOptions: readonly string[];
  private readonly configured: NfsEndpoint;

  /** @throws Error for a configuration that cannot work (checked at start). */
  constructor(private readonly settings: NfsMountSettings) {
    this.configuredServer = settings.server || settings.efsDnsName;
    if (!this.configuredServer) throw new Error('the nfs backend needs --nfs-server or --efs-dns-name');
    this.share = normalizeExportPath(settings.share);
    this.configured = this.endpointFor(this.configuredServer);
    try {
      this.baseOptions = checkMountOptions(settings.mountOptions, this.configured.kind === 'efs' ? 'efs' : 'nfs');
    } catch (err) {
      throw new Error(`--nfs-mount-options: ${(err as Error).message}`);
    }
  }

  /** The endpoint of the configured server. */
  get configuredEndpoint(): NfsEndpoint {
    return this.configured;
  }

  /** TCP port of the configured server, from `port=` in --nfs-mount-options or 2049. */
  get configuredPort(): number {
    return nfsPortOf(this.baseOptions);
  }

  /** Which option allowlist applies to per-volume options for a server. */
  flavourOf(server: string): MountOptionFlavour {
    return this.endpointFor(server || this.configuredServer).kind === 'efs' ? 'efs' : 'nfs';
  }

  /**
   * Where a server is reached: an EFS id becomes `fs-id.efs.<region>.amazonaws.com` (or the
   * configured --efs-dns-name / mount-target IP); an EFS DNS name is recognised as EFS.
   * @throws Error
   */
  endpointFor(server: string): NfsEndpoint {
    const s = normalizeServer(server);
    const { efsDnsName, efsRegion } = this.settings;
    if (isEfsFileSystemId(s)) {
      const dns = efsDnsName ? parseEfsDnsName(efsDnsName) : undefined;
      // --efs-dns-name names one file system; other ids are resolved through the region.
      const explicit = efsDnsName && (!dns || dns.fileSystemId === s) ? efsDnsName : '';
      if (explicit) {
        const ip = isIP(explicit) !== 0;
        return {
          kind: 'efs',
          host: ip && isIPv6(explicit) ? `[${explicit}]` : explicit,
          fileSystemId: s,
          ...(ip ? { mountTargetIp: explicit } : { dnsName: explicit }),
        };
      }
      const region = efsRegion || dns?.region;
      if (!region) throw new Error(`EFS file system ${s} needs --efs-region (or --efs-dns-name) to be resolved`);
      return { kind: 'efs', host: efsDnsNameFor(s, region), fileSystemId: s };
    }
    const dns = parseEfsDnsName(s);
    if (dns) return { kind: 'efs', host: s, fileSystemId: dns.fileSystemId, dnsName: s };
    if (efsDnsName && s === normalizeServer(efsDnsName))
      return { kind: 'efs', host: s, ...(isIP(efsDnsName) ? { mountTargetIp: efsDnsName } : { dnsName: s }) };
    return { kind: 'nfs', host: s };
  }

  /** Is this (volume_context) server the configured one? Empty means yes. */
  isConfigured(server: string): boolean {
    return !server || normalizeServer(server) === normalizeServer(this.configuredServer);
  }

  /**
   * The mount for a request: the node's --nfs-mount-options always apply (see nodeOptionsFor)
   * and are a floor the per-volume options cannot weaken.
   * @throws MountPlanError for a request that cannot be planned or that the node's policy refuses
   * @throws MountUnsupportedError for a mount this node cannot make (an access point without efs-utils)
   */
  plan(req: NfsMountRequest): VolumeSource {
    let ep: NfsEndpoint;
    let p: string;
    try {
      ep = req.server ? this.endpointFor(req.server) : this.configured;
      p = normalizeExportPath(req.path);
    } catch (err) {
      throw new MountPlanError((err as Error).message);
    }
    this.checkAllowed(req.server, p, req.confineToShare ?? false);
    const nodeOptions = this.nodeOptionsFor(req.server, ep);
    try {
      checkAgainstFloor(nodeOptions, req.perVolume);
    } catch (err) {
      throw new MountPlanError(`per-volume mount options: ${(err as Error).message}`);
    }
    const base = [...(req.isolated ? ['nosharecache'] : []), ...nodeOptions];
    if (ep.kind === 'efs') {
      return efsVolumeSource(ep, {
        path: p,
        ...(req.accessPointId ? { accessPointId: req.accessPointId } : {}),
        base,
        perVolume: req.perVolume,
        efsUtils: this.settings.efsUtilsPresent(),
      });
    }
    if (req.accessPointId) throw new MountUnsupportedError(`an access point needs an EFS file system, not ${ep.host}`);
    return { kind: 'nfs', fsType: 'nfs4', device: `${ep.host}:${p}`, options: mergeMountOptions(base, req.perVolume) };
  }

  /**
   * Without --nfs-allow-other-servers a volume is mounted only from the configured server, and a
   * volume_context share only from --nfs-share or below: what a PV's volume context or handle
   * names cannot send a node's mount elsewhere.
   */
  private checkAllowed(server: string, exportPath: string, confineToShare: boolean): void {
    if (this.settings.allowOtherServers) return;
    if (!this.isConfigured(server)) {
      throw new MountPlanError(
        `server "${server}" is not this driver's NFS server (${this.configuredServer}); static volumes on other servers need --nfs-allow-other-servers`,
      );
    }
    if (!confineToShare) return;
    const inside = this.share === '/' || exportPath === this.share || exportPath.startsWith(`${this.share}/`);
    if (!inside)
      throw new MountPlanError(
        `export path "${exportPath}" is outside --nfs-share ${this.share}; volumes elsewhere need --nfs-allow-other-servers`,
      );
  }

  /**
   * The node's options for a mount of `server`: all of --nfs-mount-options for the configured
   * server; for another one (allowed by --nfs-allow-other-servers) the same less what names the
   * configured server (port, clientaddr, its mount target or access point) and, for a plain NFS
   * server, less the efs-utils options it cannot take.
   */
  private nodeOptionsFor(server: string, ep: NfsEndpoint): readonly string[] {
    if (this.isConfigured(server)) return this.baseOptions;
    const serverSpecific = /^(port|clientaddr|mounttargetip|accesspoint)=/;
    return this.baseOptions.filter((o) => !serverSpecific.test(o) && (ep.kind === 'efs' || !isEfsOnlyOption(o)));
  }
}
