// The fuzz harness's few hundred cases that run with every `npm test` (thousands: `npm run fuzz`).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { fuzz, judge, mutateCsv, shippedSeeds } from './fuzz.js';
import { repoPath } from '../helpers/paths.js';

test('150 mutated shipped traces: exit 0/1/2 only, no stack trace, every problem at a line or record, bounded time and memory', async () => {
  const failures = await fuzz({ seed: 18, cases: 150, maxCaseMs: 20_000, maxRssBytes: 2 * 2 ** 30 });
  assert.deepEqual(failures, []);
});

test('the real process: mutated traces through a spawned validate and replay exit 0/1/2 without a stack trace', async () => {
  const rng = xoroshiro128plus(1818);
  const seeds = await shippedSeeds();
  const dir = await mkdtemp(join(tmpdir(), 's2bench-fuzz-spawn-'));
  const files: string[] = [];
  for (let k = 0; k < 40; k++) {
    const file = join(dir, `case-${k}.csv`);
    await writeFile(file, mutateCsv(rng, seeds[uniformInt(rng, 0, seeds.length - 1)]!.text));
    files.push(file);
  }
  const main = repoPath('dist', 'src', 'cli', 'main.js');
  for (const args of [['validate', ...files], ['replay', files[0]!]]) {
    const run = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 60_000 });
    const why = files.map((f) => judge({ code: run.status ?? -1, stdout: run.stdout, stderr: run.stderr }, f)).find((w) => w !== undefined);
    assert.equal(why, undefined, `${args[0]}: ${why}\n${run.stdout.slice(0, 2000)}${run.stderr.slice(0, 2000)}`);
  }
});
