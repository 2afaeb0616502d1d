import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolume } from 'kubernetes-models/v1/PersistentVolume';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Pod } from 'kubernetes-models/v1/Pod';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { CSIDriver } from 'kubernetes-models/storage.k8s.io/v1/CSIDriver';
import { StorageClass } from 'kubernetes-models/storage.k8s.io/v1/StorageClass';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { repoRoot } from '../helpers/driverProcess';

export const deployDir = path.join(repoRoot, 'deploy', 'kubernetes');

/** A Kubernetes object as read from YAML, with the file it came from. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
  /** Not a Kubernetes field: where the object was read. */
  source: string;
}

type Validator = (o: Record<string, unknown>) => void;
const model =
  (Ctor: new (data: never) => { validate(): void }): Validator =>
  (o) =>
    new Ctor(o as never).validate();

/** Schema validation from kubernetes-models, by apiVersion/kind. */
const validators: Record<string, Validator> = {
  'v1/ConfigMap': model(ConfigMap),
  'v1/Namespace': model(Namespace),
  'v1/PersistentVolume': model(PersistentVolume),
  'v1/PersistentVolumeClaim': model(PersistentVolumeClaim),
  'v1/Pod': model(Pod),
  'v1/ServiceAccount': model(ServiceAccount),
  'apps/v1/DaemonSet': model(DaemonSet),
  'apps/v1/Deployment': model(Deployment),
  'rbac.authorization.k8s.io/v1/ClusterRole': model(ClusterRole),
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': model(ClusterRoleBinding),
  'rbac.authorization.k8s.io/v1/Role': model(Role),
  'rbac.authorization.k8s.io/v1/RoleBinding': model(RoleBinding),
  'storage.k8s.io/v1/CSIDriver': model(CSIDriver),
  'storage.k8s.io/v1/StorageClass': model(StorageClass),
  'snapshot.storage.k8s.io/v1/VolumeSnapshotClass': checkVolumeSnapshotClass,
  'snapshot.storage.k8s.io/v1/VolumeSnapshot': checkVolumeSnapshot,
};

function fail(o: Record<string, unknown>, what: string): never {
  throw new Error(`${String(o.kind)}: ${what}`);
}

/** The CRD is not in kubernetes-models: its required fields, checked by hand (snapshot.storage.k8s.io/v1). */
function checkVolumeSnapshotClass(o: Record<string, unknown>): void {
  const known = new Set(['apiVersion', 'kind', 'metadata', 'driver', 'deletionPolicy', 'parameters']);
  for (const k of Object.keys(o)) if (!known.has(k)) fail(o, `unknown field ${k}`);
  if (typeof o.driver !== 'string' || !o.driver) fail(o, 'driver is required');
  if (o.deletionPolicy !== 'Delete' && o.deletionPolicy !== 'Retain') fail(o, 'deletionPolicy must be Delete or Retain');
  if (o.parameters !== undefined && (typeof o.parameters !== 'object' || Object.values(o.parameters as object).some((v) => typeof v !== 'string'))) {
    fail(o, 'parameters must map strings to strings');
  }
}

function checkVolumeSnapshot(o: Record<string, unknown>): void {
  const spec = o.spec as { source?: Record<string, unknown>; volumeSnapshotClassName?: unknown } | undefined;
  if (!spec?.source) fail(o, 'spec.source is required');
  const sources = ['persistentVolumeClaimName', 'volumeSnapshotContentName'].filter((k) => typeof spec.source?.[k] === 'string');
  if (sources.length !== 1) fail(o, 'spec.source needs exactly one of persistentVolumeClaimName, volumeSnapshotContentName');
  if (spec.volumeSnapshotClassName !== undefined && typeof spec.volumeSnapshotClassName !== 'string') fail(o, 'volumeSnapshotClassName must be a string');
}

/** The fields a container may have (core/v1 Container): a typo is otherwise silently dropped by the API server's lenient decoding. */
const containerFields = new Set([
  'name', 'image', 'imagePullPolicy', 'command', 'args', 'workingDir', 'ports', 'env', 'envFrom', 'resources', 'resizePolicy', 'restartPolicy',
  'volumeMounts', 'volumeDevices', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'terminationMessagePath',
  'terminationMessagePolicy', 'securityContext', 'stdin', 'stdinOnce', 'tty',
]);

/** Validates one object: kubernetes-models schema (or the hand check for CRDs) plus unknown container fields. */
export function validateObject(o: K8sObject): void {
  const key = `${o.apiVersion}/${o.kind}`;
  const validate = validators[key];
  if (!validate) throw new Error(`${o.source}: no validator for ${key}`);
  const { source: _source, ...plain } = o;
  validate(plain);
  const spec = podSpecOf(o);
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
    for (const k of Object.keys(c)) if (!containerFields.has(k)) throw new Error(`${o.source}: container ${c.name}: unknown field ${k}`);
  }
}

/** Parses a multi-document YAML text into objects (empty documents dropped). */
export function parseObjects(text: string, source: string): K8sObject[] {
  return yaml
    .loadAll(text)
    .filter((d): d is Record<string, unknown> => d !== null && typeof d === 'object')
    .map((d) => ({ ...d, source }) as K8sObject);
}

export function readObjects(file: string): K8sObject[] {
  return parseObjects(readFileSync(file, 'utf8'), path.relative(repoRoot, file));
}

export function readYaml<T>(file: string): T {
  return yaml.load(readFileSync(file, 'utf8')) as T;
}

/** Every .yaml file below a directory. */
export function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(name)) out.push(p);
  }
  return out;
}

/** The pod template spec of a workload (or the spec of a Pod). */
export function podSpecOf(o: K8sObject): IPodSpec | undefined {
  if (o.kind === 'Pod') return o.spec as IPodSpec;
  if (o.kind === 'Deployment' || o.kind === 'DaemonSet') return (o.spec as { template: { spec: IPodSpec } }).template.spec;
  return undefined;
}

export function containerNamed(spec: IPodSpec, name: string): IContainer {
  const c = spec.containers.find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name}`);
  return c;
}

/** The value of `--flag=value` or `--flag value` in args; `true` for a bare flag. */
export function flagValue(args: readonly string[], flag: string): string | true | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === `--${flag}`) {
      const next = args[i + 1];
      return next !== undefined && !next.startsWith('--') ? next : true;
    }
    if (a.startsWith(`--${flag}=`)) return a.slice(flag.length + 3);
  }
  return undefined;
}

export type { IContainer, IPodSpec };
