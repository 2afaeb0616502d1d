import type { RecordRead } from '../../src/backend/records';
import type { RecordReadStep } from '../../src/backend/recordFile';

type FakeStep<T> = RecordReadStep<T> & { fakeRead: () => Promise<RecordRead<T>> };

/**
 * Gives a fake registry and store (whose records come from their `read` and `readVolume`) the
 * batched reads the catalog uses: `readStep`, `readVolumeStep` and `readRecords`, which runs
 * every read of the batch and hands each back as its outcome, a failure thrown only when decoded.
 */
export function withBatchedReads<T>(
  store: { readVolume(id: string): Promise<RecordRead<T>> },
  registry: { read(id: string): Promise<RecordRead<T>> },
): void {
  const step = (fakeRead: () => Promise<RecordRead<T>>): FakeStep<T> => ({
    step: { req: { op: 'readFile', path: '(fake)', maxBytes: 0 }, tolerate: 'all' },
    decode: () => {
      throw new Error('fake steps are decoded by readRecords');
    },
    fakeRead,
  });
  Object.assign(registry, { readStep: async (id: string) => step(() => registry.read(id)) });
  Object.assign(store, {
    readVolumeStep: async (id: string) => step(() => store.readVolume(id)),
    readRecords: async (_what: string, reads: FakeStep<T>[]) => {
      const done = await Promise.allSettled(reads.map((r) => r.fakeRead()));
      return done.map((d) => () => {
        if (d.status === 'rejected') throw d.reason;
        return d.value;
      });
    },
  });
}
