import { invalidArgument } from '../grpc/csiError';
import { parseCheckedMountOptions } from '../backend/nfsMountOptions';
import { healthDurations } from '../backend/healthParameters';

/** StorageClass parameters this driver understands; the provisioner's own keys are passed over. */
const known = new Set(['mountOptions', 'healthCheckInterval', 'healthCheckTimeout']);

/** Validates StorageClass parameters; unknown keys are refused so that typos do not go unnoticed. */
export function validateParameters(params: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    if (k.startsWith('csi.storage.k8s.io/')) continue;
    if (!known.has(k)) throw invalidArgument(`unknown parameter "${k}" (known: ${[...known].join(', ')})`);
    if (k === 'mountOptions') {
      try {
        // The node checks again for its server's flavour; here the NFS and efs-utils allowlist.
        parseCheckedMountOptions(v, 'efs');
      } catch (err) {
        throw invalidArgument(`parameter mountOptions: ${(err as Error).message}`);
      }
    }
    out[k] = v;
  }
  healthDurations(out);
  return out;
}
