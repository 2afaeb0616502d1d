import { mkdir, open, readFile, rename } from 'node:fs/promises';
import * as path from 'node:path';

/**
 * How the node state file reaches the disk. The state dir is a local disk of the node (never
 * the share), so plain fs calls are safe here; a fake takes its place in unit tests.
 */
export interface StateFileIo {
  /** The file's text, or undefined when there is no file. */
  read(file: string): Promise<string | undefined>;
  /** Replaces the file atomically and durably. */
  write(file: string, text: string): Promise<void>;
  /** Moves a corrupt file aside (for a human to look at) so that the next write starts afresh. */
  setAside(file: string): Promise<string>;
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes a temp file, fsyncs it, renames it over the file and fsyncs the directory: after a
 * crash or power loss the file holds either the old list or the new one, never a torn one,
 * and an acknowledged write is not lost.
 */
export const durableStateFileIo: StateFileIo = {
  async read(file) {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  },
  async write(file, text) {
    const dir = path.dirname(file);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.tmp`;
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
    await fsyncDir(dir);
  },
  async setAside(file) {
    const aside = `${file}.corrupt`;
    await rename(file, aside);
    await fsyncDir(path.dirname(file));
    return aside;
  },
};
