import * as path from 'node:path';
import type { Config } from '../../src/config';
import { driverConfig } from './driverCli';
import { flagValue, podSpecOf, type IContainer, type IPodSpec, type K8sObject } from './k8sObjects';

/** The driver container's name in both pods. */
export const driverContainer = 'csi-driver';

/** `csi-provisioner` for `registry.k8s.io/sig-storage/csi-provisioner:v6.3.0`. */
export function imageName(c: IContainer): string {
  return (c.image ?? '').split('/').pop()?.split(':')[0] ?? '';
}

/** The environment the driver container sees: the settings ConfigMap, then its own env (field refs as placeholders). */
export function driverEnv(c: IContainer, settings: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  if ((c.envFrom ?? []).some((e) => e.configMapRef)) Object.assign(env, settings);
  for (const e of c.env ?? []) env[e.name] = e.value ?? (e.valueFrom?.fieldRef ? 'node-1' : '');
  return env;
}

/** The driver's Config for a workload, as the driver would build it at start. */
export function driverConfigOf(pod: K8sObject, settings: Record<string, string>): Config {
  const c = containerOf(pod, driverContainer);
  return driverConfig(c.args ?? [], driverEnv(c, settings));
}

export function containerOf(pod: K8sObject, name: string): IContainer {
  const c = spec(pod).containers.find((x) => x.name === name);
  if (!c) throw new Error(`${pod.metadata.name}: no container ${name}`);
  return c;
}

function spec(pod: K8sObject): IPodSpec {
  const s = podSpecOf(pod);
  if (!s) throw new Error(`${pod.kind} ${pod.metadata.name} has no pod spec`);
  return s;
}

/** The volume and the path inside it that a container path falls in (the deepest mount wins). */
export function locate(c: IContainer, p: string): { volume: string; rel: string } | undefined {
  const m = (c.volumeMounts ?? [])
    .filter((vm) => p === vm.mountPath || p.startsWith(vm.mountPath.replace(/\/$/, '') + '/'))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  return m ? { volume: m.name, rel: path.relative(m.mountPath, p) } : undefined;
}

function hostPathOf(pod: K8sObject, volume: string): string | undefined {
  return spec(pod).volumes?.find((v) => v.name === volume)?.hostPath?.path;
}

function socketPath(address: string): string {
  return address.replace(/^unix:\/\//, '');
}

/** The CSI socket: the driver serves it, every sidecar dials the same file, the registrar tells the kubelet the host path. */
export function socketProblems(pod: K8sObject, cfg: Config): string[] {
  const out: string[] = [];
  const name = pod.metadata.name;
  if (cfg.endpoint.kind !== 'unix') return [`${name}: the driver must serve a unix socket, not ${cfg.endpoint.kind}`];
  const served = locate(containerOf(pod, driverContainer), cfg.endpoint.path);
  if (!served) return [`${name}: the driver's socket ${cfg.endpoint.path} is not on a volume`];
  for (const c of spec(pod).containers.filter((x) => x.name !== driverContainer)) {
    const addr = flagValue(c.args ?? [], 'csi-address');
    if (typeof addr !== 'string') {
      out.push(`${name}/${c.name}: no --csi-address`);
      continue;
    }
    const dialed = locate(c, socketPath(addr));
    if (!dialed || dialed.volume !== served.volume || dialed.rel !== served.rel) {
      out.push(`${name}/${c.name}: --csi-address ${addr} is not the file the driver serves (${served.volume}:${served.rel})`);
    }
    if (imageName(c) === 'csi-node-driver-registrar') {
      const reg = flagValue(c.args ?? [], 'kubelet-registration-path');
      const host = hostPathOf(pod, served.volume);
      if (!host) out.push(`${name}: the socket volume ${served.volume} must be a hostPath for the kubelet to reach it`);
      else if (reg !== path.join(host, served.rel)) out.push(`${name}/${c.name}: --kubelet-registration-path ${String(reg)} is not ${path.join(host, served.rel)}`);
      if (host && host !== `/var/lib/kubelet/plugins/${cfg.driverName}`) out.push(`${name}: socket directory ${host} is not /var/lib/kubelet/plugins/${cfg.driverName}`);
      const regDir = locate(c, '/registration');
      if (!regDir || hostPathOf(pod, regDir.volume) !== '/var/lib/kubelet/plugins_registry') out.push(`${name}/${c.name}: /registration is not the kubelet's plugins_registry`);
    }
  }
  return out;
}

type Probe = NonNullable<IContainer['livenessProbe']>;

/** The port number a probe reaches; named ports must be declared by the probed container itself. */
function probePort(c: IContainer, p: Probe): number | string {
  const port = p.httpGet?.port;
  if (typeof port === 'number') return port;
  const declared = (c.ports ?? []).find((x) => x.name === port);
  return declared ? declared.containerPort : `undeclared port name ${String(port)}`;
}

function endpointPort(c: IContainer): number | undefined {
  const e = flagValue(c.args ?? [], 'http-endpoint');
  return typeof e === 'string' ? Number(e.split(':').pop()) : undefined;
}

/** Health and metrics ports: each probe hits a port something listens on, and nothing listens twice. */
export function portProblems(pod: K8sObject, cfg: Config): string[] {
  const out: string[] = [];
  const name = pod.metadata.name;
  const s = spec(pod);
  const driver = containerOf(pod, driverContainer);
  const listening = new Map<number, string>();
  const listen = (port: number, who: string): void => {
    const prev = listening.get(port);
    if (prev) out.push(`${name}: port ${port} used by both ${prev} and ${who}`);
    listening.set(port, who);
  };
  listen(cfg.healthPort, `${driverContainer} health`);
  if (cfg.enableFaultInjection) listen(cfg.faultInjectionPort, `${driverContainer} fault injection`);
  const livenessPorts: number[] = [];
  for (const c of s.containers) {
    const img = imageName(c);
    if (img === 'livenessprobe') {
      const hp = Number(flagValue(c.args ?? [], 'health-port') ?? 9808);
      livenessPorts.push(hp);
      listen(hp, c.name);
    }
    const ep = endpointPort(c);
    if (ep !== undefined) listen(ep, c.name);
    for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
      const p = c[kind];
      if (!p) continue;
      const port = probePort(c, p);
      if (typeof port === 'string') out.push(`${name}/${c.name} ${kind}: ${port}`);
      else if (c.name !== driverContainer && port !== ep) out.push(`${name}/${c.name} ${kind}: probes ${port}, but it listens on ${String(ep ?? 'nothing')}`);
    }
  }
  const health = (driver.ports ?? []).find((p) => p.name === 'health');
  if (health?.containerPort !== cfg.healthPort) out.push(`${name}: port "health" is ${String(health?.containerPort)}, the driver listens on ${cfg.healthPort}`);
  const annotations = (pod.spec as { template?: { metadata?: { annotations?: Record<string, string> } } }).template?.metadata?.annotations ?? {};
  if (annotations['prometheus.io/port'] !== String(cfg.healthPort)) out.push(`${name}: prometheus.io/port ${String(annotations['prometheus.io/port'])} is not ${cfg.healthPort}`);
  const expect = (kind: 'livenessProbe' | 'readinessProbe' | 'startupProbe', pathWanted: string, ports: number[]): void => {
    const p = driver[kind];
    if (!p) return void out.push(`${name}: the driver has no ${kind}`);
    const port = probePort(driver, p);
    if (p.httpGet?.path !== pathWanted || typeof port !== 'number' || !ports.includes(port)) {
      out.push(`${name}: ${kind} is ${String(p.httpGet?.path)} on ${String(port)}, expected ${pathWanted} on ${ports.join(' or ')}`);
    }
  };
  expect('livenessProbe', '/healthz/live', [cfg.healthPort]);
  expect('startupProbe', '/healthz', livenessPorts);
  if (pod.kind === 'DaemonSet') expect('readinessProbe', '/healthz/ready', [cfg.healthPort]);
  const declared = s.containers.flatMap((c) => (c.ports ?? []).map((p) => p.containerPort));
  if (new Set(declared).size !== declared.length) out.push(`${name}: a containerPort is declared twice: ${declared.join(', ')}`);
  return out;
}

/** What the node plugin needs from its host. */
export function nodeHostProblems(pod: K8sObject, cfg: Config): string[] {
  const out: string[] = [];
  const c = containerOf(pod, driverContainer);
  const kubelet = (c.volumeMounts ?? []).find((m) => m.mountPath === '/var/lib/kubelet');
  if (!kubelet || hostPathOf(pod, kubelet.name) !== '/var/lib/kubelet') out.push('the kubelet directory is not mounted from the host');
  else if (kubelet.mountPropagation !== 'Bidirectional') out.push('the kubelet directory needs mountPropagation: Bidirectional');
  if (c.securityContext?.privileged !== true) out.push('the node plugin must be privileged (Bidirectional propagation and mount need it)');
  const dev = (c.volumeMounts ?? []).find((m) => m.mountPath === '/dev');
  if (!dev || hostPathOf(pod, dev.name) !== '/dev') out.push('/dev is not mounted from the host');
  const state = locate(c, path.join(cfg.stateDir, 'x'));
  if (!state || !hostPathOf(pod, state.volume)) out.push(`--state-dir ${cfg.stateDir} is not on a hostPath: mount records would not survive a restart`);
  if (spec(pod).hostNetwork !== true) out.push('the node plugin should run in the host network so NFS mounts outlive the pod');
  return out;
}

/** With the local backend the share directory must be the same host directory in every pod. */
export function localShareHostPath(pod: K8sObject, cfg: Config): string | undefined {
  const c = containerOf(pod, driverContainer);
  const at = locate(c, path.join(cfg.localDir, 'x'));
  return at ? hostPathOf(pod, at.volume) : undefined;
}

export type { IContainer };
