import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const srcBackend = path.resolve(__dirname, '..', '..', '..', '..', 'src', 'backend');

describe('backend layering', () => {
  it('no file in src/backend imports from src/grpc, src/health, src/controller or src/node', () => {
    const files = readdirSync(srcBackend).filter((f) => f.endsWith('.ts'));
    assert.ok(files.length > 10, `found the backend sources in ${srcBackend}`);
    const offending: string[] = [];
    for (const f of files) {
      const text = readFileSync(path.join(srcBackend, f), 'utf8');
      for (const m of text.matchAll(/from '(\.\.\/(?:grpc|health|controller|node)\/[^']+)'/g)) offending.push(`${f}: ${m[1]}`);
    }
    assert.deepEqual(offending, []);
  });
});
