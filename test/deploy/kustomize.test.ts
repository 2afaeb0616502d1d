import { strict as assert } from 'node:assert';
import { deployableProblems, renderedSettings, workloads } from './deployableChecks';
import { validateObject, type K8sObject } from './k8sObjects';
import { deployables, haveKubectl, kustomize } from './kustomizations';
import { containerOf, driverConfigOf, driverContainer, localShareHostPath } from './podChecks';

describe('kubectl kustomize renders every overlay', function () {
  before(function () {
    if (!haveKubectl()) {
      console.log('    SKIPPED: kubectl is not installed (scripts/install-deploy-tools.sh installs Debian kubernetes-client)');
      this.skip();
    }
  });

  for (const dir of deployables) {
    describe(dir, () => {
      let objects: K8sObject[];
      before(() => {
        objects = kustomize(dir);
      });

      it('renders objects that all validate against the Kubernetes schemas, in the driver namespace', () => {
        const errors: string[] = [];
        for (const o of objects) {
          try {
            validateObject(o);
          } catch (err) {
            errors.push(`${o.kind}/${o.metadata.name}: ${(err as Error).message}`);
          }
        }
        assert.deepEqual(errors, []);
        const namespaced = ['ServiceAccount', 'Deployment', 'DaemonSet', 'Role', 'RoleBinding', 'ConfigMap'];
        for (const o of objects.filter((x) => namespaced.includes(x.kind))) assert.equal(o.metadata.namespace, 'nfs-health-csi', `${o.kind}/${o.metadata.name}`);
      });

      it('gives the driver flags, settings, sockets, ports and RBAC that fit together after patching', () => {
        const { problems } = deployableProblems(objects, (pod) => renderedSettings(objects, pod));
        assert.deepEqual(problems, []);
      });

      if (dir === 'overlays/local' || dir === 'examples/fault-injection') {
        it('mounts the same host share directory into the controller and the node plugin', () => {
          const { controller, node } = workloads(objects);
          const cc = driverConfigOf(controller, renderedSettings(objects, controller));
          const nc = driverConfigOf(node, renderedSettings(objects, node));
          assert.equal(cc.localDir, nc.localDir);
          const host = localShareHostPath(controller, cc);
          assert.ok(host, 'the controller has the share on a hostPath');
          assert.equal(localShareHostPath(node, nc), host);
        });

        it('runs the local controller without privileges', () => {
          const sc = containerOf(workloads(objects).controller, driverContainer).securityContext;
          assert.equal(sc?.privileged, false);
          assert.equal(sc?.allowPrivilegeEscalation, false);
          assert.deepEqual(sc?.capabilities?.drop, ['ALL']);
          assert.equal((workloads(objects).controller.spec as { replicas: number }).replicas, 1);
        });
      } else {
        it('runs a privileged controller, which mounts the share root', () => {
          assert.equal(containerOf(workloads(objects).controller, driverContainer).securityContext?.privileged, true);
        });
      }
    });
  }
});
