import { strict as assert } from 'node:assert';
import pino from 'pino';
import { IsolatedFsError } from '../../../src/isolation/isolationErrors';
import type { ShareStore } from '../../../src/backend/shareStore';
import type { ShareRecordStore } from '../../../src/backend/shareRecordStore';
import type { ControllerHealth } from '../../../src/controller/controllerHealth';
import { createControllerService } from '../../../src/controller/controllerService';
import type { VolumeCatalog } from '../../../src/controller/volumeCatalog';
import { CsiError } from '../../../src/grpc/csiError';

/** A store whose removal of the volume directory fails as it does when something writes into it meanwhile. */
function serviceWhoseDeleteFails(code: string) {
  const store = {
    deleteVolume: async () => Promise.reject(new IsolatedFsError('rm', '/share/volumes/pvc-1', code, `${code}: rm`)),
  } as unknown as ShareStore;
  return createControllerService({
    store,
    catalog: {
      unregisterStep: async (id: string) => ({ req: { op: 'rm', path: `registry/volumes/${id}.json` } }),
    } as unknown as VolumeCatalog,
    health: {} as ControllerHealth,
    context: { backend: 'local' },
    healthApi: 'both',
    records: {} as ShareRecordStore,
  });
}

describe('DeleteVolume of a volume in use', () => {
  const ctx = { logger: pino({ level: 'silent' }) };

  it('answers FAILED_PRECONDITION ("volume in use") when the removal meets a write or a mount in the volume, not INTERNAL', async () => {
    for (const code of ['ENOTEMPTY', 'EBUSY']) {
      await assert.rejects(
        serviceWhoseDeleteFails(code).DeleteVolume({ volume_id: 'pvc-1', secrets: {} }, ctx),
        (err) => err instanceof CsiError && err.code === 9,
      );
    }
  });

  it('leaves other storage errors to the common mapping', async () => {
    await assert.rejects(serviceWhoseDeleteFails('EIO').DeleteVolume({ volume_id: 'pvc-1', secrets: {} }, ctx), IsolatedFsError);
  });
});
