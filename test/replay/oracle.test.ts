// The kernel oracle: every row of the kvm-oracle fixtures carries what Linux 6.18 answered on a real
// /dev/kvm. Replaying them must reproduce every answer.

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { replayTrace } from '../../src/replay/engine.js';
import { readTrace } from '../../src/trace/io.js';
import { FIXTURES_DIR } from '../helpers/paths.js';

const ORACLE_DIR = join(FIXTURES_DIR, 'kvm-oracle');
const files = readdirSync(ORACLE_DIR).filter((name) => name.endsWith('.csv')).sort();

describe('kvm-oracle fixtures', () => {
  it('has the 13 recorded sequences', () => {
    assert.equal(files.length, 13);
  });

  for (const name of files) {
    it(`${name} replays with 0 divergences`, async () => {
      const result = replayTrace(await readTrace(join(ORACLE_DIR, name)));
      assert.deepEqual(result.divergences, []);
      assert.ok(result.counters['events']! > 20);
    });
  }
});
