import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareRuns, comparisonFails } from '../../src/report/compare.js';
import { pairProfiles } from '../../src/report/profile-pairs.js';
import { readRunDir } from '../../src/report/run-dir.js';
import { collectRunInfo } from '../../src/report/run-info.js';
import { writeRun } from '../../src/report/write.js';
import { runSuite } from '../../src/replay/run-suite.js';
import { repoPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';

test('compare between two knob settings of one run shows the knob as a behaviour change', async () => {
  const dir = await tempDir('knobs');
  const suite = await runSuite({ inputs: [repoPath('traces', 'pkvm')], workers: 0, repeat: 1, profiles: [], check: false });
  const now = new Date();
  await writeRun(dir, await collectRunInfo({ runId: 'knobs', startedAt: now, finishedAt: now, options: {}, traces: suite.traces, results: suite.results }), suite.results);
  const run = await readRunDir(dir);
  const [base, next] = pairProfiles(run, run, 'arm64-s2,hypshare=v7.1', 'arm64-s2');
  const comparison = compareRuns(base, next);
  const changed = comparison.modeled.filter((m) => m.changed).map((m) => m.metric);
  assert.ok(changed.includes('hypshare.phantom') && changed.includes('hypshare.lost'), changed.join(', '));
  assert.ok(comparison.modeled.every((m) => m.profile === 'arm64-s2,hypshare=v7.1 -> arm64-s2'));
  assert.equal(comparisonFails(comparison, false), true);
  assert.equal(comparisonFails(comparison, true), false);
  assert.throws(() => pairProfiles(run, run, 'x86-tdp', 'arm64-s2'), /has no jobs under profile 'x86-tdp' \(it has: /);
});
