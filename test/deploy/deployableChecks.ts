import type { Config } from '../../src/config';
import { flagsIn, helpEnvVars, helpFlags } from './driverCli';
import type { K8sObject } from './k8sObjects';
import { containerOf, driverConfigOf, driverContainer, nodeHostProblems, portProblems, socketProblems } from './podChecks';
import { bindingProblems, rbacProblems } from './rbacChecks';

export const namespace = 'nfs-health-csi';

/** The two workloads of a deployable. */
export function workloads(objects: K8sObject[]): { controller: K8sObject; node: K8sObject } {
  const controller = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'nfs-health-csi-controller');
  const node = objects.find((o) => o.kind === 'DaemonSet' && o.metadata.name === 'nfs-health-csi-node');
  if (!controller || !node) throw new Error('the controller Deployment or the node DaemonSet is missing');
  return { controller, node };
}

/** The settings ConfigMap the driver container of a rendered workload reads. */
export function renderedSettings(objects: K8sObject[], pod: K8sObject): Record<string, string> {
  const ref = containerOf(pod, driverContainer).envFrom?.find((e) => e.configMapRef)?.configMapRef?.name;
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === ref);
  if (!cm) throw new Error(`${pod.metadata.name}: envFrom names ConfigMap ${String(ref)}, which is not rendered`);
  if ((cm.metadata.namespace ?? namespace) !== (pod.metadata.namespace ?? namespace)) throw new Error(`ConfigMap ${String(ref)} is not in the pod's namespace`);
  return (cm.data as Record<string, string> | undefined) ?? {};
}

/** Flags and environment variables given to the driver that `csi-driver --help` does not list. */
export function unknownDriverInputs(pod: K8sObject, settings: Record<string, string>): string[] {
  const c = containerOf(pod, driverContainer);
  const flags = helpFlags();
  const envs = helpEnvVars();
  return [
    ...flagsIn(c.args ?? []).filter((f) => !flags.has(f)).map((f) => `${pod.metadata.name}: flag --${f}`),
    ...(c.env ?? []).map((e) => e.name).filter((n) => !envs.has(n)).map((n) => `${pod.metadata.name}: env ${n}`),
    ...Object.keys(settings).filter((k) => !envs.has(k)).map((k) => `settings: env ${k}`),
  ];
}

/**
 * Everything checked on a deployable's controller and node pods: the driver accepts its flags
 * and environment, serves the socket the sidecars dial, the ports line up, the node plugin has
 * its host access, and RBAC covers each sidecar.
 */
export function deployableProblems(
  objects: K8sObject[],
  settingsFor: (pod: K8sObject) => Record<string, string>,
): { problems: string[]; controller: Config; node: Config } {
  const { controller, node } = workloads(objects);
  const problems: string[] = [];
  const configs: Config[] = [];
  for (const pod of [controller, node]) {
    const settings = settingsFor(pod);
    problems.push(...unknownDriverInputs(pod, settings));
    const cfg = driverConfigOf(pod, settings);
    configs.push(cfg);
    problems.push(...socketProblems(pod, cfg), ...portProblems(pod, cfg), ...rbacProblems(objects, pod, namespace));
  }
  const [c, n] = configs as [Config, Config];
  if (c.mode !== 'controller') problems.push(`the controller runs --mode ${c.mode}`);
  if (n.mode !== 'node') problems.push(`the node plugin runs --mode ${n.mode}`);
  if (c.driverName !== n.driverName) problems.push(`driver names differ: ${c.driverName} / ${n.driverName}`);
  if (c.backend !== n.backend) problems.push(`backends differ: ${c.backend} / ${n.backend}`);
  problems.push(...nodeHostProblems(node, n), ...bindingProblems(objects, namespace));
  return { problems, controller: c, node: n };
}
