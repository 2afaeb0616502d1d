import { flagValue, podSpecOf, type K8sObject } from './k8sObjects';
import { imageName } from './podChecks';

/** One permission a sidecar uses: API group, resource, verbs; namespaced ones are checked in the pod's namespace. */
interface Need {
  group: string;
  resource: string;
  verbs: string[];
  namespaced?: boolean;
}

const watchable = ['get', 'list', 'watch'];
const events: Need = { group: '', resource: 'events', verbs: ['create', 'patch'] };

/**
 * What each Kubernetes CSI sidecar calls on the API server (from each sidecar's own RBAC
 * manifest). Leases only when it runs with --leader-election.
 */
export const sidecarNeeds: Record<string, Need[]> = {
  'csi-provisioner': [
    { group: '', resource: 'persistentvolumes', verbs: [...watchable, 'create', 'delete'] },
    { group: '', resource: 'persistentvolumeclaims', verbs: [...watchable, 'update'] },
    { group: 'storage.k8s.io', resource: 'storageclasses', verbs: watchable },
    { group: 'storage.k8s.io', resource: 'csinodes', verbs: watchable },
    { group: '', resource: 'nodes', verbs: watchable },
    { group: 'snapshot.storage.k8s.io', resource: 'volumesnapshots', verbs: ['get', 'list'] },
    { group: 'snapshot.storage.k8s.io', resource: 'volumesnapshotcontents', verbs: ['get', 'list'] },
    events,
  ],
  'csi-resizer': [
    { group: '', resource: 'persistentvolumes', verbs: [...watchable, 'patch'] },
    { group: '', resource: 'persistentvolumeclaims', verbs: watchable },
    { group: '', resource: 'persistentvolumeclaims/status', verbs: ['patch'] },
    { group: '', resource: 'pods', verbs: watchable },
    events,
  ],
  'csi-snapshotter': [
    { group: 'snapshot.storage.k8s.io', resource: 'volumesnapshotclasses', verbs: watchable },
    { group: 'snapshot.storage.k8s.io', resource: 'volumesnapshotcontents', verbs: [...watchable, 'update', 'patch'] },
    { group: 'snapshot.storage.k8s.io', resource: 'volumesnapshotcontents/status', verbs: ['update', 'patch'] },
    events,
  ],
  'csi-external-health-monitor-controller': [
    { group: '', resource: 'persistentvolumes', verbs: watchable },
    { group: '', resource: 'persistentvolumeclaims', verbs: watchable },
    { group: '', resource: 'nodes', verbs: watchable },
    { group: '', resource: 'pods', verbs: watchable },
    events,
  ],
  'csi-node-driver-registrar': [],
  livenessprobe: [],
};

const leases: Need = { group: 'coordination.k8s.io', resource: 'leases', verbs: ['get', 'watch', 'list', 'delete', 'update', 'create'], namespaced: true };

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
}

const covers = (rule: Rule, need: Need, verb: string): boolean =>
  (rule.apiGroups ?? []).some((g) => g === need.group || g === '*') &&
  (rule.resources ?? []).some((r) => r === need.resource || r === '*') &&
  rule.verbs.some((v) => v === verb || v === '*');

/** The rules granted to a service account: ClusterRoles through ClusterRoleBindings, and in `namespace` through RoleBindings. */
function grantedRules(objects: K8sObject[], sa: string, namespace: string): { cluster: Rule[]; inNamespace: Rule[] } {
  const byName = (kind: string, name: string, ns?: string): K8sObject | undefined =>
    objects.find((o) => o.kind === kind && o.metadata.name === name && (ns === undefined || (o.metadata.namespace ?? namespace) === ns));
  const bound = (b: K8sObject): boolean =>
    ((b.subjects as Array<{ kind: string; name: string; namespace?: string }> | undefined) ?? []).some((s) => s.kind === 'ServiceAccount' && s.name === sa && s.namespace === namespace);
  const rulesOf = (ref: { kind: string; name: string }, ns?: string): Rule[] =>
    ((byName(ref.kind, ref.name, ref.kind === 'Role' ? ns : undefined)?.rules as Rule[] | undefined) ?? []);
  const cluster = objects.filter((o) => o.kind === 'ClusterRoleBinding' && bound(o)).flatMap((b) => rulesOf(b.roleRef as { kind: string; name: string }));
  const inNamespace = objects
    .filter((o) => o.kind === 'RoleBinding' && (o.metadata.namespace ?? namespace) === namespace && bound(o))
    .flatMap((b) => rulesOf(b.roleRef as { kind: string; name: string }, namespace));
  return { cluster, inNamespace };
}

/** Every permission each sidecar of the workload needs is granted to the pod's service account. */
export function rbacProblems(objects: K8sObject[], pod: K8sObject, namespace: string): string[] {
  const spec = podSpecOf(pod);
  if (!spec) return [`${pod.metadata.name}: no pod spec`];
  const out: string[] = [];
  const sa = spec.serviceAccountName ?? 'default';
  if (!objects.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === sa)) out.push(`${pod.metadata.name}: service account ${sa} does not exist`);
  const { cluster, inNamespace } = grantedRules(objects, sa, namespace);
  for (const c of spec.containers) {
    const img = imageName(c);
    if (c.name === 'csi-driver') continue;
    const needs = sidecarNeeds[img];
    if (!needs) {
      out.push(`${pod.metadata.name}/${c.name}: no RBAC table for image ${img}`);
      continue;
    }
    const all = flagValue(c.args ?? [], 'leader-election') !== undefined ? [...needs, leases] : needs;
    for (const need of all) {
      const rules = need.namespaced ? [...cluster, ...inNamespace] : cluster;
      const missing = need.verbs.filter((v) => !rules.some((r) => covers(r, need, v)));
      if (missing.length > 0) out.push(`${c.name} (${sa}): cannot ${missing.join(',')} ${need.group || 'core'}/${need.resource}`);
    }
  }
  return out;
}

/** Every binding points at a role that exists, and every subject at an existing service account. */
export function bindingProblems(objects: K8sObject[], namespace: string): string[] {
  const out: string[] = [];
  for (const b of objects.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')) {
    const ref = b.roleRef as { kind: string; name: string };
    if (!objects.some((o) => o.kind === ref.kind && o.metadata.name === ref.name)) out.push(`${b.metadata.name}: ${ref.kind} ${ref.name} does not exist`);
    for (const s of (b.subjects as Array<{ kind: string; name: string; namespace?: string }> | undefined) ?? []) {
      if (s.kind !== 'ServiceAccount') continue;
      if (s.namespace !== namespace) out.push(`${b.metadata.name}: subject ${s.name} is in namespace ${String(s.namespace)}, not ${namespace}`);
      if (!objects.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === s.name)) out.push(`${b.metadata.name}: service account ${s.name} does not exist`);
    }
  }
  return out;
}
