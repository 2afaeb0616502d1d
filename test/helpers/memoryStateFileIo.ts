import type { StateFileIo } from '../../src/node/stateFileIo';

/** The node state file in memory; `failNext` makes the next writes fail with the given errors. */
export class MemoryStateFileIo implements StateFileIo {
  readonly files = new Map<string, string>();
  readonly failNext: Error[] = [];
  writes = 0;
  /** Texts in the order they were written. */
  readonly written: string[] = [];
  private held: Promise<void> | undefined;

  /** Makes writes wait until the returned function is called (a slow disk). */
  holdWrites(): () => void {
    let release = (): void => undefined;
    this.held = new Promise((r) => (release = r));
    return () => {
      this.held = undefined;
      release();
    };
  }

  async read(file: string): Promise<string | undefined> {
    return this.files.get(file);
  }

  async write(file: string, text: string): Promise<void> {
    this.writes++;
    await this.held;
    const err = this.failNext.shift();
    if (err) throw err;
    this.files.set(file, text);
    this.written.push(text);
  }

  async setAside(file: string): Promise<string> {
    const text = this.files.get(file);
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
    this.files.delete(file);
    this.files.set(`${file}.corrupt`, text);
    return `${file}.corrupt`;
  }
}
