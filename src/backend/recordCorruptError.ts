/** A record on the share that does not parse or does not have the expected shape. */
export class RecordCorruptError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file} is corrupt: ${problem}`);
    this.name = 'RecordCorruptError';
  }
}
