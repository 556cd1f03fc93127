// Bounds on one replay (src/replay/limits.ts): `--max-memory` stops a trace whose model would grow past
// the limit at the row that would cross it, in `replay` and in `run` (pool or main thread), and the
// main thread's `--job-timeout` stops a job between slices of rows. Slicing changes no counter.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseProfile } from '../../src/core/profile.js';
import { Replay, replayTrace } from '../../src/replay/engine.js';
import { ReplayTimeout, slices, SLICE_PAGES, SLICE_ROWS } from '../../src/replay/limits.js';
import { runSuite } from '../../src/replay/run-suite.js';
import { parseTraceText, readTrace } from '../../src/trace/io.js';
import { runCliInProcess } from '../helpers/cli.js';
import { repoPath } from '../helpers/paths.js';

const HEAD = '# s2bench trace v1\nop,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\n';
/** A 1 TiB slot of 4K-backed memory: one write over all of it needs 2^19 tables (1 GiB of pool). */
const SLOT = 'backing,,,0x10000000000,,anon,0x100000000000,,,,\nmemslot,,0x100000000,0x10000000000,1,0,0x100000000000,,,,0\n';
/** Line 5: the row that needs the tables. */
const HUNGRY = `${HEAD}${SLOT}write,0,0x100000000,0x1000000,,,,,,,ok\nwrite,0,0x100000000,0xffffffffff,,,,,,,ok\n`;
const FOUR_MIB = 4 * 2 ** 20;

async function traceFile(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 's2bench-limits-'));
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

test('replay --max-memory: the row that would grow the model past the limit fails with file and line, exit 1', async () => {
  const path = await traceFile('hungry.csv', HUNGRY);
  const result = await runCliInProcess(['replay', path, '--max-memory', '4MB']);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, new RegExp(`${path}: line 6: a write row: the model would hold .* \\(growing its stage-2 table pool\\), over the limit of 4MB; raise --max-memory`));
  assert.doesNotMatch(result.stderr, /\n\s+at /);
});

test('replay --max-memory takes sizes with units and 0 for no limit; anything else is a usage error', async () => {
  const path = await traceFile('small.csv', `${HEAD}${SLOT}write,0,0x100000000,0x1000000,,,,,,,ok\n`);
  assert.equal((await runCliInProcess(['replay', path, '--max-memory', '4MB'])).code, 0);
  assert.equal((await runCliInProcess(['replay', path, '--max-memory', '0'])).code, 0);
  for (const bad of ['4g', '-1', 'lots', '1e9']) {
    const result = await runCliInProcess(['replay', path, '--max-memory', bad]);
    assert.equal(result.code, 2, bad);
    assert.match(result.stderr, /--max-memory takes a size/);
  }
});

for (const workers of [0, 1]) {
  test(`run -w ${workers}: a trace past --max-memory fails its job with file and line; the other trace runs`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 's2bench-limits-'));
    await writeFile(join(dir, 'hungry.csv'), HUNGRY);
    await writeFile(join(dir, 'small.csv'), `${HEAD}${SLOT}write,0,0x100000000,0x1000000,,,,,,,ok\n`);
    const { results } = await runSuite({ inputs: [dir], workers, repeat: 1, profiles: [], check: false, maxMemoryBytes: FOUR_MIB });
    const byTrace = new Map(results.map((r) => [r.trace, r]));
    assert.equal(byTrace.get('small')?.status, 'ok');
    assert.equal(byTrace.get('hungry')?.status, 'failed');
    assert.match(byTrace.get('hungry')!.error!, /hungry\.csv: line 6: a write row: the model would hold .* over the limit of 4MB/);
  });
}

test('run -w 0 --job-timeout: a job past its deadline fails at the next slice, naming the last row replayed', async () => {
  // A deadline long gone: the first check, after the first slice, stops the job whatever the machine's speed.
  const path = await traceFile('slow.csv', `${HEAD}${SLOT}write,0,0x100000000,0x1000000,,,,,,,ok\n`);
  const { results } = await runSuite({ inputs: [path], workers: 0, repeat: 1, profiles: [], check: false, jobTimeoutMs: 1e-9 });
  assert.equal(results[0]!.status, 'failed');
  assert.match(results[0]!.error!, /slow\.csv: line 5: timed out after 1e-12 s \(--job-timeout\)/);
});

test('a replay with a deadline stops with ReplayTimeout after its first slice', async () => {
  const trace = await parseTraceText(`${HEAD}${SLOT}write,0,0x100000000,0x1000,,,,,,,ok\n`, 'x.csv');
  const replay = new Replay(trace.meta, undefined, undefined, { source: 'x.csv', deadline: 0, timeoutMs: 5 });
  assert.throws(() => replay.feed([...trace.chunks][0]!), (err: unknown) => err instanceof ReplayTimeout && /x\.csv: line 5: timed out after 0\.005 s/.test(err.message));
});

test('slices: at most SLICE_ROWS rows, and a slice ends once its access rows sweep SLICE_PAGES pages', async () => {
  const rows = SLICE_ROWS * 2 + 100;
  const many = await parseTraceText(`${HEAD}${'read,0,0x1000,,,,,,,,\n'.repeat(rows)}`, 'x.csv', rows);
  assert.deepEqual([...slices([...many.chunks][0]!)].map((s) => s.length), [SLICE_ROWS, SLICE_ROWS, 100]);
  // Each row sweeps half of SLICE_PAGES: two rows a slice; a slice's lines are its rows' own.
  const half = (SLICE_PAGES / 2) * 4096;
  const wide = await parseTraceText(`${HEAD}${`read,0,0x0,0x${half.toString(16)},,,,,,,\n`.repeat(5)}`, 'x.csv');
  const parts = [...slices([...wide.chunks][0]!)];
  assert.deepEqual(parts.map((s) => s.length), [2, 2, 1]);
  assert.deepEqual(parts.map((s) => s.line[0]), [3, 5, 7]);
});

test('replaying in slices under limits changes no counter of a shipped trace', async () => {
  const trace = await readTrace(repoPath('traces', 'memslots', 'churn-256.csv'));
  const profile = parseProfile('x86-tdp');
  const plain = replayTrace(trace, profile, { series: true });
  const bounded = replayTrace(trace, profile, { series: true, limits: { deadline: Infinity, maxModelBytes: 2 ** 40 } });
  assert.deepEqual(bounded.counters, plain.counters);
  assert.deepEqual(bounded.series, plain.series);
});
