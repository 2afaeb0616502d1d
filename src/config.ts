import * as os from 'node:os';
import * as path from 'node:path';
import { parseDuration } from './duration';
import type { MetricsCompat } from './metrics/efsCompatMetrics';

export type DriverMode = 'controller' | 'node' | 'all';
export type BackendKind = 'local' | 'nfs';
export type HealthApi = 'v1.12' | 'v1.13' | 'both';

/** Everything the driver is told at start; built once, validated, frozen. */
export interface Config {
  readonly endpoint: Endpoint;
  readonly driverName: string;
  readonly nodeId: string;
  readonly mode: DriverMode;
  readonly backend: BackendKind;
  readonly localDir: string;
  readonly stateDir: string;
  /** Staging and target paths must be under it. */
  readonly kubeletDir: string;
  readonly nfs: NfsConfig;
  readonly healthApi: HealthApi;
  /** Extra metric names beside the driver's own: `efs` adds the seed design's four. */
  readonly metricsCompat: MetricsCompat;
  readonly healthPort: number;
  readonly healthAddress: string;
  /** Open connections each HTTP server (health port, fault API) holds at most. */
  readonly httpMaxConnections: number;
  readonly healthCheckIntervalMs: number;
  readonly healthCheckTimeoutMs: number;
  readonly healthFailureThreshold: number;
  readonly healthSuccessThreshold: number;
  readonly healthConcurrency: number;
  readonly enableFaultInjection: boolean;
  readonly faultInjectionAddress: string;
  readonly faultInjectionPort: number;
  readonly maxVolumesPerNode: number;
  /** Serve ControllerPublish/Unpublish with per-node attachment records; NodeStage then needs the publish context. */
  readonly enableAttach: boolean;
  readonly logLevel: string;
}

export interface NfsConfig {
  readonly server: string;
  readonly share: string;
  readonly mountOptions: readonly string[];
  readonly efsRegion: string;
  readonly efsDnsName: string;
  /** May volume_context name another server than --nfs-server (static volumes elsewhere)? */
  readonly allowOtherServers: boolean;
}

export type Endpoint =
  { readonly kind: 'unix'; readonly path: string } | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/** Raw option values as the CLI hands them over (strings, before validation). */
export interface RawOptions {
  endpoint?: string;
  driverName?: string;
  nodeId?: string;
  mode?: string;
  backend?: string;
  localDir?: string;
  stateDir?: string;
  kubeletDir?: string;
  nfsServer?: string;
  nfsShare?: string;
  nfsMountOptions?: string;
  efsRegion?: string;
  efsDnsName?: string;
  nfsAllowOtherServers?: boolean;
  healthApi?: string;
  metricsCompat?: string;
  healthPort?: string;
  healthAddress?: string;
  httpMaxConnections?: string;
  healthCheckInterval?: string;
  healthCheckTimeout?: string;
  healthFailureThreshold?: string;
  healthSuccessThreshold?: string;
  healthConcurrency?: string;
  enableFaultInjection?: boolean;
  faultInjectionAddress?: string;
  faultInjectionPort?: string;
  maxVolumesPerNode?: string;
  enableAttach?: boolean;
  logLevel?: string;
}

export const defaultDriverName = 'nfs-health.csi.dev';

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Parses `unix:///abs/path.sock`, `unix://rel.sock` or `tcp://host:port`. */
export function parseEndpoint(text: string, cwd = process.cwd()): Endpoint {
  if (text.startsWith('unix://')) {
    const p = text.slice('unix://'.length);
    if (!p) throw new Error(`invalid endpoint "${text}": no socket path`);
    return { kind: 'unix', path: path.resolve(cwd, p) };
  }
  if (text.startsWith('unix:')) return parseEndpoint(`unix://${text.slice('unix:'.length)}`, cwd);
  const m = /^tcp:\/\/([^:/]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(text);
  if (m && m[1] !== undefined && m[2] !== undefined) {
    const port = Number(m[2]);
    if (port > 65535) throw new Error(`invalid endpoint "${text}": port out of range`);
    return { kind: 'tcp', host: m[1], port };
  }
  throw new Error(`invalid endpoint "${text}": use unix:///path/csi.sock or tcp://host:port`);
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(`invalid --${name} "${value}": one of ${allowed.join(', ')}`);
}

function integer(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim())) throw new Error(`invalid --${name} "${value}": a whole number`);
  const n = Number(value);
  if (n < min || n > max) throw new Error(`invalid --${name} ${n}: between ${min} and ${max}`);
  return n;
}

function duration(name: string, value: string, minMs: number): number {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (err) {
    throw new Error(`invalid --${name}: ${(err as Error).message}`);
  }
  if (ms < minMs) throw new Error(`invalid --${name} ${value}: at least ${minMs}ms`);
  return ms;
}

/** Mount options are a comma list of `key` or `key=value` words; nothing that could smuggle another argument. */
export function parseMountOptions(text: string): string[] {
  if (text.trim() === '') return [];
  const opts = text.split(',').map((o) => o.trim());
  for (const o of opts) {
    if (!/^[A-Za-z0-9_.-]+(=[A-Za-z0-9_.:/@+-]+)?$/.test(o)) throw new Error(`invalid mount option "${o}"`);
  }
  return opts;
}

/** Builds and validates the Config; throws an Error with a clear message on bad input. */
export function buildConfig(raw: RawOptions, cwd = process.cwd(), hostname: () => string = os.hostname): Config {
  const runDir = path.join(cwd, '.run');
  const mode = oneOf<DriverMode>('mode', raw.mode ?? 'all', ['controller', 'node', 'all']);
  const backend = oneOf<BackendKind>('backend', raw.backend ?? 'local', ['local', 'nfs']);
  const driverName = raw.driverName ?? defaultDriverName;
  // CSI: the name must be at most 63 characters, DNS-like, beginning and ending with an alphanumeric.
  if (!/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,61}[a-zA-Z0-9])?$/.test(driverName)) {
    throw new Error(`invalid --driver-name "${driverName}": up to 63 characters of [a-z0-9.-], starting and ending alphanumeric`);
  }
  // The real host name, not $HOSTNAME: shells set that variable but rarely export it.
  const nodeId = raw.nodeId ?? hostname();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(nodeId)) {
    throw new Error(
      `invalid --node-id "${nodeId}"${raw.nodeId === undefined ? " (this machine's host name, the default): give --node-id" : ''}`,
    );
  }
  const nfsServer = raw.nfsServer ?? '';
  const nfsShare = raw.nfsShare ?? '/';
  if (backend === 'nfs' && !nfsServer && !raw.efsDnsName) throw new Error('--backend nfs needs --nfs-server (or --efs-dns-name)');
  if (nfsServer && !/^[A-Za-z0-9.:[\]-]+$/.test(nfsServer)) throw new Error(`invalid --nfs-server "${nfsServer}"`);
  if (!nfsShare.startsWith('/') || nfsShare.includes('..') || /[\s,\0]/.test(nfsShare))
    throw new Error(`invalid --nfs-share "${nfsShare}": an absolute export path`);
  let mountOptions: string[];
  try {
    mountOptions = parseMountOptions(raw.nfsMountOptions ?? 'nfsvers=4.1');
  } catch (err) {
    throw new Error(`invalid --nfs-mount-options: ${(err as Error).message}`);
  }
  const intervalMs = duration('health-check-interval', raw.healthCheckInterval ?? '30s', 100);
  const timeoutMs = duration('health-check-timeout', raw.healthCheckTimeout ?? '5s', 50);
  const cfg: Config = {
    endpoint: parseEndpoint(raw.endpoint ?? `unix://${path.join(runDir, 'csi.sock')}`, cwd),
    driverName,
    nodeId,
    mode,
    backend,
    localDir: path.resolve(cwd, raw.localDir ?? path.join(runDir, 'share')),
    stateDir: path.resolve(cwd, raw.stateDir ?? path.join(runDir, 'state')),
    kubeletDir: path.resolve(cwd, raw.kubeletDir ?? '/var/lib/kubelet'),
    nfs: Object.freeze({
      server: nfsServer,
      share: nfsShare,
      mountOptions: Object.freeze(mountOptions),
      efsRegion: raw.efsRegion ?? '',
      efsDnsName: raw.efsDnsName ?? '',
      allowOtherServers: raw.nfsAllowOtherServers ?? false,
    }),
    // v1.12 by default: every released consumer speaks it, and sidecars built on csi-lib-utils
    // v0.20.0 or older crash at start on the v1.13 capability values (docs/health-monitoring.md).
    healthApi: oneOf<HealthApi>('health-api', raw.healthApi ?? 'v1.12', ['v1.12', 'v1.13', 'both']),
    metricsCompat: oneOf<MetricsCompat>('metrics-compat', raw.metricsCompat ?? 'none', ['none', 'efs']),
    healthPort: integer('health-port', raw.healthPort ?? '9910', 0, 65535),
    healthAddress: raw.healthAddress ?? '0.0.0.0',
    httpMaxConnections: integer('http-max-connections', raw.httpMaxConnections ?? '64', 4, 10_000),
    healthCheckIntervalMs: intervalMs,
    healthCheckTimeoutMs: timeoutMs,
    healthFailureThreshold: integer('health-failure-threshold', raw.healthFailureThreshold ?? '2', 1, 100),
    healthSuccessThreshold: integer('health-success-threshold', raw.healthSuccessThreshold ?? '2', 1, 100),
    healthConcurrency: integer('health-concurrency', raw.healthConcurrency ?? '4', 1, 64),
    enableFaultInjection: raw.enableFaultInjection ?? false,
    faultInjectionAddress: raw.faultInjectionAddress ?? '127.0.0.1',
    faultInjectionPort: integer('fault-injection-port', raw.faultInjectionPort ?? '9911', 0, 65535),
    maxVolumesPerNode: integer('max-volumes-per-node', raw.maxVolumesPerNode ?? '0', 0, 100000),
    enableAttach: raw.enableAttach ?? false,
    logLevel: oneOf('log-level', raw.logLevel ?? 'info', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
  };
  if (timeoutMs >= intervalMs)
    throw new Error(`--health-check-timeout (${timeoutMs}ms) must be shorter than --health-check-interval (${intervalMs}ms)`);
  if (cfg.backend === 'local') {
    const inside = (a: string, b: string): boolean => a === b || a.startsWith(b + path.sep);
    // The share is published to pods and the state dir holds the node's records: keep them apart.
    if (inside(cfg.stateDir, cfg.localDir) || inside(cfg.localDir, cfg.stateDir)) {
      throw new Error('--state-dir and --local-dir must be separate directories, neither inside the other');
    }
  }
  return Object.freeze(cfg);
}
