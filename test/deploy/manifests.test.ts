import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { defaultDriverName } from '../../src/config';
import { repoRoot } from '../helpers/driverProcess';
import { deployableProblems, namespace, workloads } from './deployableChecks';
import { helpEnvVars, helpFlags } from './driverCli';
import { deployDir, readObjects, validateObject, yamlFiles, type K8sObject } from './k8sObjects';
import { appendedArgs, chain, deployables, loadKustomization, namedFiles, resourceObjects, settingsOf } from './kustomizations';
import { containerOf, driverConfigOf, driverContainer } from './podChecks';

/** Every directory below deploy/kubernetes that holds a kustomization.yaml, relative. */
function kustomizationDirs(dir = deployDir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const p = path.join(dir, e.name);
    if (readdirSync(p).includes('kustomization.yaml')) out.push(path.relative(deployDir, p));
    out.push(...kustomizationDirs(p));
  }
  return out;
}

const rel = (f: string): string => path.relative(deployDir, f);
const isExample = (f: string): boolean => /(^|\/)examples\//.test(rel(f));

/** A deployable's objects before patching, with the driver's args as the JSON patches extend them. */
function emulated(dir: string): K8sObject[] {
  const objects = resourceObjects(dir).map((o) => structuredClone(o));
  const { controller, node } = workloads(objects);
  for (const pod of [controller, node]) {
    const c = containerOf(pod, driverContainer);
    c.args = [...(c.args ?? []), ...appendedArgs(dir, pod.kind)];
  }
  return objects;
}

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  const dirs = kustomizationDirs();
  const named = new Set(dirs.flatMap((d) => Object.values(namedFiles(d)).flat()));
  const files = yamlFiles(deployDir).filter((f) => path.basename(f) !== 'kustomization.yaml');
  const patches = new Set(dirs.flatMap((d) => namedFiles(d).patches));
  const objects = files.filter((f) => !patches.has(rel(f))).flatMap((f) => readObjects(f));

  it('names every YAML file in a kustomization, unless it is an example', () => {
    const stray = files.filter((f) => !named.has(rel(f)) && !isExample(f)).map(rel);
    assert.deepEqual(stray, []);
  });

  it('has kustomizations whose files all exist', () => {
    for (const d of dirs) for (const f of Object.values(namedFiles(d)).flat()) assert.ok(files.map(rel).includes(f), `${d} names ${f}, which does not exist`);
    assert.deepEqual(dirs.filter((d) => d.startsWith('overlays/')).sort(), ['overlays/efs', 'overlays/local', 'overlays/nfs']);
  });

  it('validates every object against the Kubernetes schemas (CRDs by their required fields)', () => {
    assert.ok(objects.length >= 20, `only ${objects.length} objects found`);
    const errors: string[] = [];
    for (const o of objects) {
      try {
        validateObject(o);
      } catch (err) {
        errors.push(`${o.source} ${o.kind}/${o.metadata?.name}: ${(err as Error).message}`);
      }
    }
    assert.deepEqual(errors, []);
  });

  it('pins every sidecar to a released registry.k8s.io/sig-storage tag', () => {
    const images = objects.flatMap((o) => {
      const spec = (o.spec as { template?: { spec?: { containers?: Array<{ image?: string }> } } } | undefined)?.template?.spec;
      return (spec?.containers ?? []).map((c) => c.image ?? '');
    });
    const sidecars = images.filter((i) => i !== 'nfs-health-csi');
    assert.ok(sidecars.length >= 7);
    for (const i of sidecars) assert.match(i, /^registry\.k8s\.io\/sig-storage\/[a-z-]+:v\d+\.\d+\.\d+$/, i);
  });

  it('runs the image the Dockerfile builds, tagged with the package version', () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    assert.deepEqual(loadKustomization('base').images, [{ name: 'nfs-health-csi', newTag: pkg.version }]);
  });

  it('names the driver the same everywhere: CSIDriver, StorageClasses, VolumeSnapshotClass, static volumes', () => {
    const { controller } = workloads(emulated('overlays/local'));
    const name = driverConfigOf(controller, settingsOf('overlays/local')).driverName;
    assert.equal(name, defaultDriverName);
    const csiDrivers = objects.filter((o) => o.kind === 'CSIDriver');
    assert.deepEqual(csiDrivers.map((o) => o.metadata.name), [name]);
    assert.equal((csiDrivers[0]?.spec as { attachRequired: boolean }).attachRequired, false);
    const classes = objects.filter((o) => o.kind === 'StorageClass');
    assert.deepEqual(classes.map((o) => o.metadata.name).sort(), ['nfs-health-efs', 'nfs-health-local', 'nfs-health-nfs']);
    for (const sc of classes) assert.equal(sc.provisioner, name, sc.metadata.name);
    for (const vsc of objects.filter((o) => o.kind === 'VolumeSnapshotClass')) assert.equal(vsc.driver, name);
    const pvs = objects.filter((o) => o.kind === 'PersistentVolume');
    assert.ok(pvs.length >= 3, 'static EFS volume examples');
    for (const pv of pvs) assert.equal((pv.spec as { csi: { driver: string } }).csi.driver, name, pv.metadata.name);
  });

  it('shows every EFS volume handle form in the static examples', () => {
    const handles = objects.filter((o) => o.kind === 'PersistentVolume').map((o) => (o.spec as { csi: { volumeHandle: string } }).csi.volumeHandle);
    assert.ok(handles.some((h) => /^fs-[0-9a-f]+$/.test(h)), 'fs-id');
    assert.ok(handles.some((h) => /^fs-[0-9a-f]+:\/[^:]+$/.test(h)), 'fs-id:/path');
    assert.ok(handles.some((h) => /^(efs:)?fs-[0-9a-f]+:\/[^:]*:fsap-[0-9a-f]+$/.test(h)), 'fs-id:/path:fsap-id');
  });

  it('refers from the examples only to classes the overlays define', () => {
    const classes = new Set(objects.filter((o) => o.kind === 'StorageClass').map((o) => o.metadata.name));
    const snapClasses = new Set(objects.filter((o) => o.kind === 'VolumeSnapshotClass').map((o) => o.metadata.name));
    for (const pvc of objects.filter((o) => o.kind === 'PersistentVolumeClaim')) {
      const sc = (pvc.spec as { storageClassName?: string }).storageClassName;
      assert.ok(sc === '' || (sc !== undefined && classes.has(sc)), `${pvc.metadata.name}: storageClassName ${String(sc)}`);
    }
    for (const vs of objects.filter((o) => o.kind === 'VolumeSnapshot')) {
      assert.ok(snapClasses.has((vs.spec as { volumeSnapshotClassName: string }).volumeSnapshotClassName), vs.metadata.name);
    }
  });

  it('reads the driver flags and environment variables from csi-driver --help', () => {
    assert.ok(helpFlags().has('health-check-interval'));
    assert.ok(helpEnvVars().has('HEALTH_CHECK_INTERVAL'));
  });

  for (const dir of deployables) {
    describe(`${dir} (as kustomize assembles it)`, () => {
      it('builds on the base and sets the driver namespace', () => {
        assert.equal(chain(dir)[0], 'base');
        for (const d of chain(dir)) assert.equal(loadKustomization(d).namespace, namespace, d);
      });

      it('passes the driver only flags and environment variables that csi-driver --help lists, with values it accepts, and wires sockets, ports and RBAC', () => {
        const settings = settingsOf(dir);
        const { problems, controller, node } = deployableProblems(emulated(dir), () => settings);
        assert.deepEqual(problems, []);
        const backend = dir.endsWith('local') || dir.includes('fault-injection') ? 'local' : 'nfs';
        assert.equal(controller.backend, backend);
        if (dir.includes('fault-injection')) {
          assert.ok(controller.enableFaultInjection && node.enableFaultInjection);
          assert.equal(node.faultInjectionAddress, '127.0.0.1');
        } else {
          assert.ok(!controller.enableFaultInjection && !node.enableFaultInjection, 'fault injection stays off');
        }
        if (dir.endsWith('efs')) {
          assert.ok(controller.nfs.efsRegion, 'AWS_REGION set for EFS handles');
          for (const o of ['nfsvers=4.1', 'rsize=1048576', 'wsize=1048576', 'hard', 'timeo=600', 'retrans=2', 'noresvport']) assert.ok(node.nfs.mountOptions.includes(o), o);
        }
      });
    });
  }
});
