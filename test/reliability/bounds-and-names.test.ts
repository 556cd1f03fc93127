// Bounded work and hostile names (issue 18): rows replay cannot do are rejected by validate with the
// reason, replay refuses traces past --max-events, a diverging trace prints a bounded list, symlinked
// traces are followed or reported, CSV cells cannot run as formulas, terminal text cannot steer the
// terminal.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { discoverTraces } from '../../src/replay/suite.js';
import { readRunDir } from '../../src/report/run-dir.js';
import { terminalText } from '../../src/report/terminal.js';
import { writeRun } from '../../src/report/write.js';
import { MAX_LISTED_DIVERGENCES } from '../../src/cli/actions/replay.js';
import { job, syntheticRunInfo } from '../report/synthetic.js';
import { runCliInProcess } from '../helpers/cli.js';

const HEAD = '# s2bench trace v1\nop,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\n';

async function tempFile(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 's2bench-bounds-'));
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

for (const [what, row] of [
  ['a host_read of 2^64-1 bytes', 'host_read,,,0xffffffffffffffff,,,0x7f0000000000,,,,'],
  ['a host_write of 2 TiB', 'host_write,,,0x20000000000,,,0x0,,,,'],
] as const) {
  test(`validate rejects ${what}, naming the size and why`, async () => {
    const file = await tempFile('big.csv', HEAD + 'uffd,,,0x200000,,,0x7f0000000000,,,,\n' + row + '\n');
    const run = await runCliInProcess(['validate', file]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: line 4, field size: .*at most 1 TiB.*: the model`));
    // And replay stops at the reader with the same message, instead of allocating or looping.
    const replay = await runCliInProcess(['replay', file]);
    assert.equal(replay.code, 1);
    assert.match(replay.stderr, /line 4, field size/);
  });
}

test('a uffd registration of all of user space (2^35 pages) replays, its cost what the trace touches', async () => {
  // 128 TiB registered (a byte per page would be 32 GiB of model state; more is EINVAL, past the task
  // size: fs/userfaultfd.c validate_range()); the guest faults in two pages of
  // a slot on top of it, the VMM reads a third, a MADV_DONTNEED makes one missing again, the VMM reads it
  // and a page never touched.
  const rows = [
    'uffd,,,0x7fffffeff000,,page,0x100000,,,,0',
    'memslot,,0,0x200000,0,,0x7f0000000000,,,,0',
    'write,0,0x1000,,,,,,,,',
    'write,0,0x1000,,,,,,,,',
    'read,0,0x5000,,,,,,,,',
    'host_read,,,0x1000,,,0x7f0000009000,,,,',
    'unmap_hva,,,0x1000,,,0x7f0000001000,,,,',
    'host_read,,,0x2000,,,0x7f0000000000,,,,',
    'expect,,,,,uffd.faults,,,,,5', // pages 1, 5, 9, then 0 and 1 again
  ];
  const file = await tempFile('uffd-huge.csv', HEAD + rows.join('\n') + '\n');
  assert.equal((await runCliInProcess(['validate', file])).code, 0);
  const replay = await runCliInProcess(['replay', file, '--check']);
  assert.equal(replay.code, 0, replay.stdout + replay.stderr);
  assert.match(replay.stdout, /check: 0 divergences/);
});

test('replay and run refuse a trace with more events than --max-events', async () => {
  const file = await tempFile('many.csv', HEAD + 'memslot,,0,0x200000,0,,0x7f0000000000,,,,0\n' + 'read,0,0x1000,,,,,,,,\n'.repeat(50));
  const replay = await runCliInProcess(['replay', file, '--max-events', '10']);
  assert.equal(replay.code, 1);
  assert.match(replay.stderr, /more than 10 events.*--max-events/);
  assert.equal((await runCliInProcess(['replay', file, '--max-events', 'lots'])).code, 2);
  const out = join(await mkdtemp(join(tmpdir(), 's2bench-bounds-')), 'run');
  const run = await runCliInProcess(['run', file, '-w', '0', '-r', '1', '-q', '-o', out, '--max-events', '10']);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /FAILED many .*more than 10 events/);
});

test('replay --check lists the first divergences and counts the rest', async () => {
  const extra = 25;
  const rows = 'expect,,,,,faults,,,,,7\n'.repeat(MAX_LISTED_DIVERGENCES + extra);
  const file = await tempFile('diverge.csv', HEAD + rows);
  const text = await runCliInProcess(['replay', file, '--check']);
  assert.equal(text.code, 1);
  assert.equal(text.stdout.match(/^ {2}line \d+: expect/gm)?.length, MAX_LISTED_DIVERGENCES);
  assert.match(text.stdout, new RegExp(`\\.\\.\\. and ${extra} more`));
  const json = JSON.parse((await runCliInProcess(['replay', file, '--check', '--json'])).stdout) as { divergences: unknown[]; divergencesTotal: number };
  assert.equal(json.divergences.length, MAX_LISTED_DIVERGENCES);
  assert.equal(json.divergencesTotal, MAX_LISTED_DIVERGENCES + extra);
});

test('symlinked traces in a suite directory are followed; a broken link is kept, to fail visibly; a loop is walked once', async () => {
  const root = await mkdtemp(join(tmpdir(), 's2bench-links-'));
  const elsewhere = await mkdtemp(join(tmpdir(), 's2bench-links-'));
  await writeFile(join(elsewhere, 'real.csv'), HEAD);
  await mkdir(join(elsewhere, 'more'));
  await writeFile(join(elsewhere, 'more', 'deep.csv'), HEAD);
  const suite = join(root, 'suite');
  await mkdir(suite);
  await symlink(join(elsewhere, 'real.csv'), join(suite, 'linked.csv'));
  await symlink(join(elsewhere, 'more'), join(suite, 'dir'));
  await symlink(join(elsewhere, 'gone.csv'), join(suite, 'broken.csv'));
  await symlink(suite, join(suite, 'loop'));
  const names = (await discoverTraces([suite])).map((t) => t.name);
  assert.deepEqual(names, ['broken', 'dir/deep', 'linked']);
  const out = join(root, 'out');
  const run = await runCliInProcess(['run', suite, '-w', '0', '-r', '1', '-q', '-o', out]);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /FAILED broken .*broken\.csv: a symbolic link to .*gone\.csv, which does not exist/);
});

test('CSV text cells that start like a formula are escaped; numbers stay numbers; names read back exactly', async () => {
  const names = ['=HYPERLINK("http://x","y")', '+1', '-cmd', '@SUM(A1)', '\tx', "'=already", 'plain'];
  const jobs = names.map((name) => job(name, 'x86-tdp', 0, { modeled: { events: 1, 'conv.delta': -1 }, timing: {} }));
  const dir = await mkdtemp(join(tmpdir(), 's2bench-names-'));
  const info = syntheticRunInfo('=run', jobs);
  info.traces = names.map((name) => ({ name, path: `${name}.csv`, events: 1, bytes: 1, sha256: null }));
  await writeRun(dir, info, jobs);
  for (const file of ['results.csv', 'summary.csv']) {
    const records = parse(await readFile(join(dir, file), 'utf8')) as string[][];
    for (const cell of records.flat()) assert.doesNotMatch(cell, /^[=+@\t\r]/, `${file}: ${JSON.stringify(cell)} would run as a formula`);
    if (file === 'results.csv') {
      assert.ok(records.some((r) => r[6] === '-1'), 'a negative number is written as a number');
      assert.ok(records.slice(1).every((r) => r[0] === "'=run"));
    }
  }
  const back = await readRunDir(dir);
  assert.deepEqual(back.jobs.map((j) => j.trace).sort(), [...names].sort());
});

test('terminal text: control and bidi characters become ?, long names are cut', () => {
  assert.equal(terminalText('a\u001b[2Jb\u202eevil\u2066x\r'), 'a?[2Jb?evil?x?');
  const long = terminalText('n'.repeat(500));
  assert.equal([...long].length, 80);
  assert.ok(long.endsWith('\u2026'));
  assert.equal(terminalText('😀'.repeat(100)).length, 79 * 2 + 1, 'cut on code points');
});
