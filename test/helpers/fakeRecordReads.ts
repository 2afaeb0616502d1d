import type { RecordRead } from '../../src/backend/records';
import type { BatchRead } from '../../src/backend/recordFile';

type FakeStep<R> = BatchRead<R> & { fakeRead: () => Promise<R> };

/**
 * Gives a fake registry and store (whose records come from their `read` and `readVolume`) the
 * batched reads the catalog uses: `readStep`, `readVolumeStep`, `capacityStep` (from the store's
 * `capacity`, when it has one), `inspectVolumes` (from its `inspectVolume`, when it has one) and `readRecordsThen`, which runs every read of the batch and hands
 * each back as its outcome, a failure thrown only when decoded; the steps after the reads do not run.
 */
const fakeStep = () => ({ req: { op: 'exists', path: '(fake)' } });

export function withBatchedReads<T>(
  store: {
    readVolume(id: string): Promise<RecordRead<T>>;
    capacity?: () => Promise<unknown>;
    inspectVolume?: (id: string, timeoutMs?: number) => Promise<unknown>;
  },
  registry: { read(id: string): Promise<RecordRead<T>> },
): void {
  const step = <R>(fakeRead: () => Promise<R>): FakeStep<R> => ({
    step: { req: { op: 'readFile', path: '(fake)', maxBytes: 0 }, tolerate: 'all' },
    decode: () => {
      throw new Error('fake steps are decoded by readRecords');
    },
    fakeRead,
  });
  Object.assign(registry, { readStep: async (id: string) => step(() => registry.read(id)) });
  const capacity = store.capacity?.bind(store);
  const inspect = store.inspectVolume?.bind(store);
  Object.assign(store, {
    // The looks of a group, each by the store's own inspectVolume, all started at once.
    ...(inspect ? { inspectVolumes: (ids: string[], timeoutMs?: number) => Promise.all(ids.map((id) => inspect(id, timeoutMs))) } : {}),
    readVolumeStep: async (id: string) => step(() => store.readVolume(id)),
    ...(capacity ? { capacityStep: async () => step(capacity) } : {}),
    // Made in a round trip of its own (store.createVolume), never along with the reads.
    newEmptyVolume: async () => ({ dirLook: fakeStep(), steps: [fakeStep()] }),
    discardUnfinished: async () => undefined,
    // The reads only: steps to run after them (a volume made in the same round trip) never run here.
    readRecordsThen: async (_what: string, reads: Array<FakeStep<unknown>>, then: unknown[]) => {
      const done = await Promise.allSettled(reads.map((r) => r.fakeRead()));
      const decoders = done.map((d) => () => {
        if (d.status === 'rejected') throw d.reason;
        return d.value;
      });
      return { reads: decoders, thenRan: then.length === 0 };
    },
  });
}
