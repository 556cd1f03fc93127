// A run never loses finished results (issue 18): a hung job is stopped and the run goes on, a run that
// is killed leaves its finished jobs and an incomplete run.json, and an output directory is never
// reused by accident.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSuite } from '../../src/replay/run-suite.js';
import { stagingDir } from '../../src/report/journal.js';
import { readRunDir } from '../../src/report/run-dir.js';
import { repoPath } from '../helpers/paths.js';
import { runCliInProcess } from '../helpers/cli.js';

const SMALL = repoPath('traces', 'memslots', 'churn-256.csv');

async function suiteDir(...names: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 's2bench-run-'));
  for (const name of names) await cp(SMALL, join(dir, `${name}.csv`));
  return dir;
}

const TINY = '# s2bench trace v1\nop,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\nmemslot,,0,0x200000,0,,0x7f0000000000,,,,0\nread,0,0x1000,,,,,,,,ok\n';

test('a hung job is stopped at the job timeout and fails; finished repeats and other traces are kept', async () => {
  // Tiny traces: a job that does not hang takes milliseconds, far below the timeout even on a busy machine.
  const dir = await mkdtemp(join(tmpdir(), 's2bench-run-'));
  for (const name of ['good', 'hang']) await writeFile(join(dir, `${name}.csv`), TINY);
  const { results } = await runSuite({
    inputs: [dir],
    workers: 2,
    repeat: 3,
    profiles: [],
    check: false,
    jobTimeoutMs: 5000,
    workerFile: new URL('../replay/fixtures/failing-worker.js', import.meta.url),
  });
  const hang = results.filter((r) => r.trace === 'hang');
  assert.deepEqual(hang.map((r) => r.status), ['ok', 'failed', 'failed']);
  assert.match(hang[1]!.error ?? '', /timed out after 5 s/);
  assert.match(hang[2]!.error ?? '', /not run: repeat 1/);
  assert.ok(results.filter((r) => r.trace === 'good').every((r) => r.status === 'ok'));
});

test('run refuses a non-empty output directory without --force, and replaces it whole with it', async () => {
  const dir = await suiteDir('a');
  const out = join(await mkdtemp(join(tmpdir(), 's2bench-out-')), 'run');
  await mkdir(out);
  await writeFile(join(out, 'results.csv'), 'old figures\n');
  const refused = await runCliInProcess(['run', dir, '-w', '1', '-r', '1', '-q', '-o', out]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /not empty.*--force/);
  assert.equal(await readFile(join(out, 'results.csv'), 'utf8'), 'old figures\n', 'nothing touched');

  const forced = await runCliInProcess(['run', dir, '-w', '1', '-r', '1', '-q', '-o', out, '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  const run = await readRunDir(out);
  assert.equal(run.info.complete, true);
  assert.equal(run.jobs.length, 2); // one job per profile the trace names (both SLOT_ZAP_ALL settings)
  const beside = await readdir(join(out, '..'));
  assert.deepEqual(beside, ['run'], 'no staging or replaced directory is left beside it');
});

/** A trace that replays for many seconds in little memory: one GiB swept again and again. */
function slowTrace(): string {
  const lines = ['# s2bench trace v1', 'op,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret'];
  lines.push('backing,,,0x40000000,,anon,0x7f0000000000,,,,');
  lines.push('memslot,,0x0,0x40000000,0,,0x7f0000000000,,,,0');
  for (let k = 0; k < 5000; k++) lines.push('read,0,0x0,0x40000000,,,,,,,');
  return lines.join('\n') + '\n';
}

test('a run killed part-way leaves its finished jobs and an incomplete run.json; report shows it, compare refuses it', async () => {
  const dir = await suiteDir('a-small');
  await writeFile(join(dir, 'z-slow.csv'), slowTrace());
  const out = join(await mkdtemp(join(tmpdir(), 's2bench-out-')), 'run');
  const staging = stagingDir(out);
  const child = spawn(process.execPath, [repoPath('dist', 'src', 'cli', 'main.js'), 'run', dir, '-w', '0', '-r', '1', '-q', '-o', out], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  // Wait for a-small's job to be on disk (z-slow then runs for many seconds), then kill the run.
  for (;;) {
    const info = await readFile(join(staging, 'run.json'), 'utf8').catch(() => '');
    if (info.includes('"a-small"')) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  await exited;

  const run = await readRunDir(staging);
  assert.equal(run.info.complete, false);
  assert.deepEqual(run.jobs.map((j) => [j.trace, j.status]), [['a-small', 'ok']]);
  assert.ok((run.jobs[0]!.modeled['events'] ?? 0) > 0, 'the finished job kept its figures');
  const report = await runCliInProcess(['report', staging]);
  assert.equal(report.code, 0, report.stderr);
  assert.match(await readFile(join(staging, 'report.html'), 'utf8'), /PARTIAL RUN/);
  assert.equal((await runCliInProcess(['compare', staging, staging])).code, 2);
  // The leftovers are not overwritten by the next run into the same place without --force.
  assert.equal((await runCliInProcess(['run', dir, '-w', '1', '-r', '1', '-q', '-o', out])).code, 2);
});
