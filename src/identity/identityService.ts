import type { DriverMode } from '../config';
import type { IdentityHandlers } from '../grpc/csiTypes';
import type { AsyncService } from '../grpc/unary';

export interface IdentityDeps {
  driverName: string;
  version: string;
  mode: DriverMode;
  /**
   * Whether this process works: server up, monitor loop ticking, backend initialised. Storage
   * health is deliberately not part of it: a restart cures no NFS outage.
   */
  ready: () => boolean;
}

/** The CSI Identity service. */
export function createIdentityService(deps: IdentityDeps): AsyncService<IdentityHandlers> {
  return {
    async GetPluginInfo() {
      return { name: deps.driverName, vendor_version: deps.version, manifest: {} };
    },

    async GetPluginCapabilities() {
      const capabilities: Array<
        { service: { type: 'CONTROLLER_SERVICE' | 'GROUP_CONTROLLER_SERVICE' } } | { volume_expansion: { type: 'ONLINE' } }
      > = [];
      if (deps.mode !== 'node')
        capabilities.push({ service: { type: 'CONTROLLER_SERVICE' } }, { service: { type: 'GROUP_CONTROLLER_SERVICE' } });
      capabilities.push({ volume_expansion: { type: 'ONLINE' } });
      return { capabilities };
    },

    async Probe() {
      return { ready: { value: deps.ready() } };
    },
  };
}
