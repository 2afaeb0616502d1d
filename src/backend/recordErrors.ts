/** A record file on the share exists but cannot be used: not JSON, not the record's format, or another record's. */
export class RecordCorruptError extends Error {
  constructor(
    /** What the record is about: "volume pvc-1", "snapshot snap-1". */
    readonly subject: string,
    /** The file, relative to the share root. */
    readonly file: string,
    /** What is wrong with it, in words. */
    readonly problem: string,
  ) {
    super(`the metadata of ${subject} is corrupt: ${file} ${problem}`);
    this.name = 'RecordCorruptError';
  }
}
