import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The version in package.json, read once. */
export const driverVersion: string = (
  JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }
).version;
