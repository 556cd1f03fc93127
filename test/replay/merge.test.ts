import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { mergeRuns, readMergePart } from '../../src/report/merge.js';
import { readRunDir } from '../../src/report/run-dir.js';
import { collectRunInfo } from '../../src/report/run-info.js';
import { writeRun } from '../../src/report/write.js';
import { runSuite } from '../../src/replay/run-suite.js';
import { repoPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';
import { parseProfile } from '../../src/core/profile.js';

async function runToDir(shard: { index: number; count: number } | undefined, dir: string): Promise<void> {
  const suite = await runSuite({ inputs: [repoPath('traces')], workers: 0, repeat: 1, profiles: [parseProfile('x86-tdp')], check: false, ...(shard ? { shard } : {}) });
  const now = new Date();
  const info = await collectRunInfo({ runId: `run-${shard?.index ?? 'all'}`, startedAt: now, finishedAt: now, options: {}, traces: suite.traces, results: suite.results });
  await writeRun(dir, info, suite.results);
}

test("merging the shards of a suite run gives the jobs, modeled counters and series.csv of the whole run", async () => {
  const root = await tempDir('merge');
  await runToDir(undefined, join(root, 'all'));
  await runToDir({ index: 0, count: 2 }, join(root, 'a'));
  await runToDir({ index: 1, count: 2 }, join(root, 'b'));
  const merged = mergeRuns([await readMergePart(join(root, 'a')), await readMergePart(join(root, 'b'))], 'merged');
  const whole = await readRunDir(join(root, 'all'));
  const key = (j: { trace: string; profile: string; modeled: Record<string, number> }): string => `${j.trace}|${j.profile}|${JSON.stringify(j.modeled)}`;
  assert.deepEqual(merged.jobs.map(key).sort(), whole.jobs.map(key).sort());
  assert.deepEqual(merged.info.traces.map((t) => t.name), whole.info.traces.map((t) => t.name));
  assert.deepEqual(merged.warnings, []);
  // The parts' series.csv are joined: the merged one holds the whole run's rows.
  await writeRun(join(root, 'm'), merged.info, merged.jobs);
  const lines = async (dir: string): Promise<string[]> => (await readFile(join(root, dir, 'series.csv'), 'utf8')).trimEnd().split('\n').sort();
  const series = await lines('all');
  assert.ok(series.length > 100, `the whole run has series rows (${series.length})`);
  for (const part of ['a', 'b']) assert.ok((await lines(part)).length < series.length, `shard ${part} holds only part of them`);
  assert.deepEqual(await lines('m'), series);
});

test('parts that share a trace are refused', async () => {
  const root = await tempDir('merge');
  await runToDir({ index: 0, count: 2 }, join(root, 'a'));
  const a = await readRunDir(join(root, 'a'));
  assert.throws(() => mergeRuns([a, { ...a, dir: 'elsewhere' }], 'm'), /is in both .* and elsewhere/);
});
