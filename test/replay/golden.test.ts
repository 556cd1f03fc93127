// Every shipped trace's modeled counters under each architecture's default profile must equal the
// committed test/golden/counters.json: speed work must not move a single count. A deliberate rule
// change regenerates the file with `npm run golden` (and the diff shows what the rule moved).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { goldenCounters, shippedTraces, type GoldenCounters } from '../../src/replay/golden.js';
import { repoPath } from '../helpers/paths.js';

const committed = JSON.parse(readFileSync(repoPath('test', 'golden', 'counters.json'), 'utf8')) as GoldenCounters;

test('the golden file covers every shipped trace', () => {
  assert.deepEqual(Object.keys(committed), shippedTraces(repoPath('traces')));
});

test('modeled counters of every shipped trace equal test/golden/counters.json (npm run golden regenerates)', async () => {
  const now = await goldenCounters(repoPath('traces'));
  for (const [trace, byProfile] of Object.entries(committed)) {
    for (const [profile, counters] of Object.entries(byProfile)) {
      assert.deepEqual(now[trace]?.[profile], counters, `${trace} under ${profile}`);
    }
  }
});
