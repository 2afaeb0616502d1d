/** The node state file could not be written; the records in memory are still right and the next write tries again. */
export class NodeStateWriteError extends Error {
  constructor(
    readonly file: string,
    override readonly cause: unknown,
  ) {
    super(`node state file ${file} could not be written: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'NodeStateWriteError';
  }
}

/** The node state file exists but is not a valid record list (bad JSON or a record that fails the schema). */
export class NodeStateCorruptError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`node state file ${file} is corrupt: ${detail}`);
    this.name = 'NodeStateCorruptError';
  }
}
