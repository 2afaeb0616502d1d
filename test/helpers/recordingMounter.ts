import type { MountEntry } from '../../src/mount/mountTable';
import type { Mounter } from '../../src/mount/mounter';

/** A mounter that keeps its own mount table and records the mount commands it was asked for. */
export class RecordingMounter implements Mounter {
  calls: string[] = [];
  mounted = new Map<string, string>();
  /** When set, mount() records the call and then throws this. */
  failMount: Error | undefined;

  async bindMount(): Promise<void> {
    throw new Error('bind mounts are not expected here');
  }

  async mount(fsType: string, source: string, target: string, options: string[]): Promise<void> {
    this.calls.push(`mount -t ${fsType} -o ${options.join(',')} ${source} ${target}`);
    if (this.failMount) throw this.failMount;
    this.mounted.set(target, source);
  }

  async unmount(target: string): Promise<void> {
    this.calls.push(`umount ${target}`);
    this.mounted.delete(target);
  }

  async mountAt(target: string): Promise<MountEntry | undefined> {
    const source = this.mounted.get(target);
    return source === undefined
      ? undefined
      : { mountId: 1, parentId: 0, device: '0:1', root: '/', mountPoint: target, options: [], fsType: 'nfs4', source, superOptions: [] };
  }

  async table(): Promise<MountEntry[]> {
    return [];
  }
}
