// The guest_memfd rows of the kvm-oracle fixtures (ret = what Linux 6.18 answered) replay exactly.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { replayTrace } from '../../src/replay/engine.js';
import { FIXTURES_DIR } from '../helpers/paths.js';

const ORACLE = join(FIXTURES_DIR, 'kvm-oracle');
const files = readdirSync(ORACLE).filter((name) => name.endsWith('.csv'));

describe('kvm-oracle guest_memfd rows', () => {
  for (const name of files) {
    it(`${name}: no divergence on gmem_* rows or gmem memslot rows`, async () => {
      const path = join(ORACLE, name);
      const result = await replayTrace(path);
      const gmemLines = new Set(
        readFileSync(path, 'utf8')
          .split('\n')
          .map((line, i) => [i + 1, line] as const)
          .filter(([, line]) => line.startsWith('gmem_') || /^memslot,([^,]*,){4}[^,]*gmem/.test(line))
          .map(([n]) => n),
      );
      const gmemDivergences = result.divergences.filter((d) => gmemLines.has(d.line));
      assert.deepEqual(gmemDivergences, []);
    });
  }

  it('covers every guest_memfd op and errno the fixtures record', () => {
    const text = files.map((name) => readFileSync(join(ORACLE, name), 'utf8')).join('\n');
    for (const needle of ['gmem_create', 'gmem_punch', 'gmem_alloc', 'gmem_close', '-EBADF', '-EOPNOTSUPP']) {
      assert.ok(text.includes(needle), needle);
    }
  });
});
