import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { deployDir, parseObjects, readObjects, readYaml, type K8sObject } from './k8sObjects';

interface JsonPatchOp {
  op: string;
  path: string;
  value?: unknown;
}

/** The fields of kustomization.yaml this project uses (kustomize v2 compatible). */
export interface Kustomization {
  namespace?: string;
  bases?: string[];
  resources?: string[];
  patchesStrategicMerge?: string[];
  patchesJson6902?: Array<{ target: { group?: string; version: string; kind: string; name: string }; path: string }>;
  configMapGenerator?: Array<{ name: string; behavior?: 'create' | 'merge' | 'replace'; literals?: string[] }>;
  images?: Array<{ name: string; newName?: string; newTag?: string }>;
}

/** The deployable entry points: the three overlays and the fault-injection example. */
export const deployables = ['overlays/local', 'overlays/nfs', 'overlays/efs', 'examples/fault-injection'];

export function loadKustomization(dir: string): Kustomization {
  return readYaml<Kustomization>(path.join(deployDir, dir, 'kustomization.yaml'));
}

/** The kustomization directories a deployable is built from, base first. */
export function chain(dir: string): string[] {
  const k = loadKustomization(dir);
  const parents = (k.bases ?? []).flatMap((b) => chain(path.normalize(path.join(dir, b))));
  return [...parents, dir];
}

/** Files (resources and patches) a kustomization directory names, relative to deployDir. */
export function namedFiles(dir: string): { resources: string[]; patches: string[] } {
  const k = loadKustomization(dir);
  const rel = (f: string): string => path.normalize(path.join(dir, f));
  return {
    resources: (k.resources ?? []).map(rel),
    patches: [...(k.patchesStrategicMerge ?? []), ...(k.patchesJson6902 ?? []).map((p) => p.path)].map(rel),
  };
}

/** Full objects (not patches) of a deployable, as kustomize would collect them before patching. */
export function resourceObjects(dir: string): K8sObject[] {
  return chain(dir).flatMap((d) => namedFiles(d).resources.map((f) => readObjects(path.join(deployDir, f))).flat());
}

/** The driver's settings ConfigMap of a deployable: generator literals merged down the chain. */
export function settingsOf(dir: string, name = 'nfs-health-csi-settings'): Record<string, string> {
  let data: Record<string, string> = {};
  for (const d of chain(dir)) {
    for (const g of loadKustomization(d).configMapGenerator ?? []) {
      if (g.name !== name) continue;
      const lits = Object.fromEntries((g.literals ?? []).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      data = g.behavior === 'merge' ? { ...data, ...lits } : lits;
    }
  }
  return data;
}

/** Arguments that JSON patches of a deployable append to the first container of a workload kind. */
export function appendedArgs(dir: string, kind: string): string[] {
  const out: string[] = [];
  for (const d of chain(dir)) {
    for (const p of loadKustomization(d).patchesJson6902 ?? []) {
      if (p.target.kind !== kind) continue;
      for (const op of readYaml<JsonPatchOp[]>(path.join(deployDir, d, p.path))) {
        if (op.op === 'add' && op.path === '/spec/template/spec/containers/0/args/-') out.push(String(op.value));
      }
    }
  }
  return out;
}

/** Whether kubectl is on PATH (Debian kubernetes-client, installed by scripts/install-deploy-tools.sh). */
export function haveKubectl(): boolean {
  return spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
}

/** `kubectl kustomize <dir>`: the rendered objects; throws with kubectl's message on failure. */
export function kustomize(dir: string): K8sObject[] {
  const r = spawnSync('kubectl', ['kustomize', path.join(deployDir, dir)], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${r.stderr || r.error?.message}`);
  return parseObjects(r.stdout, `kustomize ${dir}`);
}

export function exists(rel: string): boolean {
  return existsSync(path.join(deployDir, rel));
}
