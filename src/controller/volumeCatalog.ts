import type { Logger } from 'pino';
import type { RecordRead, VolumeRecord } from '../backend/records';
import type { ShareStore } from '../backend/shareStore';
import type { NewVolumeSteps } from '../backend/newVolumeSteps';
import { VolumeRegistry } from '../backend/volumeRegistry';
import type { HealthIssue } from '../health/healthIssue';
import { mapLimit } from './mapLimit';
import { inGroupsOf } from '../inGroupsOf';
import type { BatchStep, StepCondition } from '../isolation/fsOps';
import type { BatchRead } from '../backend/recordFile';

/** One volume the controller knows, with the best record it has of it. */
export interface CatalogEntry {
  id: string;
  /** volume.json when the registry has no usable copy, else the registry's copy; undefined when neither is usable. */
  rec: VolumeRecord | undefined;
  /** The registry holds an entry for it (usable or not). */
  registered: boolean;
  /** What is wrong with the registry entry, when it is corrupt. */
  registryProblem?: string;
}

/** A new volume's making for entryAlong, and what it asks of the other read (given that read's place in the batch). */
export interface MakeIfNew extends NewVolumeSteps {
  alsoHolds?: (index: number) => StepCondition;
}

/** How many round trips a listing keeps in flight. */
const readConcurrency = 4;

/**
 * How many volumes one round trip of a listing looks at (two records each). A batch has the one
 * deadline of a read, so a group must be answered in time by a share that is slow but alive:
 * 32 small reads, where one read per round trip cost a helper's message each way per volume.
 */
const volumesPerTrip = 16;

/**
 * The volumes this controller has created and not deleted: the registry's entries, plus volume
 * directories with a volume.json (finished volumes made before the registry existed, or whose
 * registration did not happen). A directory without volume.json is an unfinished create and not
 * a volume. Failures of the storage are thrown, never turned into a shorter answer.
 */
export class VolumeCatalog {
  constructor(
    private readonly store: Pick<ShareStore, 'readVolume' | 'volumeDirIds' | 'readVolumeStep' | 'readRecordsThen'>,
    private readonly registry: Pick<VolumeRegistry, 'ensureLayout' | 'ids' | 'readStep' | 'put' | 'putStep' | 'removeStep'>,
    private readonly logger?: Logger,
  ) {}

  /**
   * Creates the registry directory and registers finished volumes that are not registered yet
   * (a share from before the registry). Returns how many were registered.
   */
  async init(): Promise<number> {
    await this.registry.ensureLayout();
    const registered = new Set(await this.registry.ids());
    const missing = (await this.store.volumeDirIds()).filter((id) => !registered.has(id));
    const added = await mapLimit(missing, readConcurrency, async (id) => {
      const read = await this.store.readVolume(id);
      if (read.state !== 'ok') return 0;
      await this.registry.put(read.rec);
      return 1;
    });
    const count = added.reduce<number>((a, b) => a + b, 0);
    if (count > 0) this.logger?.info({ added: count }, 'volumes from before the registry were registered');
    return count;
  }

  async register(rec: VolumeRecord): Promise<void> {
    await this.registry.put(rec);
  }

  /** The registration as a step the store runs after the volume's record, in the same round trip. */
  registerStep(rec: VolumeRecord): Promise<BatchStep> {
    return this.registry.putStep(rec);
  }

  /** The unregistration as a step the store runs after the volume's removal, in the same round trip. */
  unregisterStep(id: string): Promise<BatchStep> {
    return this.registry.removeStep(id);
  }

  /** Every known volume id, sorted; stops when the signal aborts. */
  async ids(signal?: AbortSignal): Promise<string[]> {
    const [registered, dirs] = await Promise.all([this.registry.ids(), this.store.volumeDirIds()]);
    const known = new Set(registered);
    const unregistered = dirs.filter((id) => !known.has(id));
    const groups = await mapLimit(
      inGroupsOf(unregistered, 2 * volumesPerTrip),
      readConcurrency,
      async (group) => {
        const reads = await Promise.all(group.map((id) => this.store.readVolumeStep(id)));
        const { reads: decoders } = await this.store.readRecordsThen(`volumes ${rangeOf(group)} (records)`, reads, []);
        return group.filter((_, i) => decoders[i]!().state !== 'absent');
      },
      signal,
    );
    for (const id of groups.flat()) known.add(id);
    return [...known].sort();
  }

  /** What is known of a volume, or undefined when the controller never made it (or deleted it). */
  async entry(id: string): Promise<CatalogEntry | undefined> {
    return (await this.entryAlong(id)).entry;
  }

  /**
   * entry(), with one more read of the share in the same round trip (CreateVolume's statfs):
   * that read is decoded, and its failure thrown, only if the caller calls `also`. With `ifNew`,
   * the same round trip also makes the volume when it turns out new (no registry entry, no
   * directory, and what `ifNew.alsoHolds` asks of the other read); `made` says whether it did.
   */
  async entryAlong<X>(
    id: string,
    also?: BatchRead<X>,
    ifNew?: MakeIfNew,
  ): Promise<{ entry: CatalogEntry | undefined; also: () => X; made: boolean }> {
    // Everything in one round trip; volume.json is only looked at (and its failure only
    // thrown) when the registry has no usable entry.
    const reads: Array<BatchRead<unknown>> = [await this.registry.readStep(id), await this.store.readVolumeStep(id)];
    if (also) reads.push(also);
    const then = ifNew ? stepsIfNew(ifNew, reads.length, also ? 2 : undefined) : [];
    const { reads: decoders, thenRan } = await this.store.readRecordsThen(`volume ${id} (records)`, reads, then);
    const [readReg, readOwn, readAlso] = decoders;
    const alsoRead = (): X => {
      if (!readAlso) throw new Error('entryAlong: nothing else was read');
      return readAlso() as X;
    };
    const made = thenRan && then.length > 0;
    const entry = made ? undefined : entryOf(id, readReg as () => RecordRead<VolumeRecord>, readOwn as () => RecordRead<VolumeRecord>);
    return { entry, also: alsoRead, made };
  }

  /** Entries of many volumes, in order; ids that turned out to be gone are left out (they are no volumes). */
  async entries(ids: string[], signal?: AbortSignal): Promise<CatalogEntry[]> {
    const found = await mapLimit(inGroupsOf(ids, volumesPerTrip), readConcurrency, (group) => this.entriesOfGroup(group), signal);
    return found.flat().filter((e): e is CatalogEntry => e !== undefined);
  }

  /** entry() of each volume of a group, in one round trip. */
  private async entriesOfGroup(ids: string[]): Promise<Array<CatalogEntry | undefined>> {
    const reads: Array<BatchRead<RecordRead<VolumeRecord>>> = [];
    for (const id of ids) reads.push(await this.registry.readStep(id), await this.store.readVolumeStep(id));
    const { reads: decoders } = await this.store.readRecordsThen(`volumes ${rangeOf(ids)} (records)`, reads, []);
    return ids.map((id, i) => entryOf(id, decoders[2 * i]!, decoders[2 * i + 1]!));
  }

  /** Issues the catalog itself sees: a corrupt registry entry. */
  static issuesOf(e: CatalogEntry): HealthIssue[] {
    if (!e.registryProblem) return [];
    return [
      {
        status: 'DATA_LOSS',
        reason: 'MetadataCorrupt',
        message: `the registry entry ${VolumeRegistry.entryPath(e.id)} of volume ${e.id} ${e.registryProblem}`,
      },
    ];
  }
}

/**
 * The steps that make a volume after the reads of entryAlong (the registry entry at 0, then
 * volume.json, then `also` at `alsoIndex`), each condition checked by the helper on what the
 * reads found: no registry entry, no directory, and `alsoHolds`.
 */
function stepsIfNew(ifNew: MakeIfNew, readCount: number, alsoIndex: number | undefined): BatchStep[] {
  const [first, ...rest] = ifNew.steps;
  if (!first) return [];
  if (ifNew.alsoHolds && alsoIndex === undefined) throw new Error('entryAlong: a condition on a read that is not made');
  const onlyIf: StepCondition[] = [
    { step: 0, failedWith: ['ENOENT'] },
    { step: readCount, answered: false },
    ...(ifNew.alsoHolds && alsoIndex !== undefined ? [ifNew.alsoHolds(alsoIndex)] : []),
  ];
  return [ifNew.dirLook, { ...first, onlyIf: [...(first.onlyIf ?? []), ...onlyIf] }, ...rest];
}

/** The ids of a group, for messages: the first and the last. */
function rangeOf(ids: string[]): string {
  return ids.length === 1 ? ids[0]! : `${ids[0]!} .. ${ids[ids.length - 1]!} (${ids.length})`;
}

function okRecord(read: RecordRead<VolumeRecord>): VolumeRecord | undefined {
  return read.state === 'ok' ? read.rec : undefined;
}

/** The catalog's view of a volume from its registry entry and volume.json, each decoded when needed. */
function entryOf(id: string, readReg: () => RecordRead<VolumeRecord>, readOwn: () => RecordRead<VolumeRecord>): CatalogEntry | undefined {
  const reg = readReg();
  if (reg.state === 'ok') return { id, rec: reg.rec, registered: true };
  const own = readOwn();
  if (reg.state === 'corrupt') return { id, rec: okRecord(own), registered: true, registryProblem: reg.problem };
  if (own.state === 'absent') return undefined;
  return { id, rec: okRecord(own), registered: false };
}
