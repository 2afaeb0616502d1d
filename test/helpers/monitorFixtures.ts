import type { MountRegistration } from '../../src/health/mountRegistration';
import type { MountEntry } from '../../src/mount/mountTable';

/** What a healthy mount's statfs answers in the monitor's unit tests. */
export const healthyStatfs = { bsize: '4096', blocks: '1000', bfree: '500', bavail: '500', files: '100', ffree: '50' };

/** A mount table line for `p`: a tmpfs, from `source`. */
export const tableEntry = (p: string, source = 'dev'): MountEntry => ({
  mountId: 1,
  parentId: 0,
  device: '0:1',
  root: '/',
  mountPoint: p,
  options: [],
  fsType: 'tmpfs',
  source,
  superOptions: [],
});

/** A publish mount at `p` of volume `vol-<p>`, registered with the monitor. */
export const publishReg = (p: string, extra: Partial<MountRegistration> = {}): MountRegistration => ({
  volumeId: `vol-${p}`,
  path: p,
  kind: 'publish',
  readOnly: false,
  expectedSource: '',
  ...extra,
});
