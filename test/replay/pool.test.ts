import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseProfile } from '../../src/core/profile.js';
import { runSuite } from '../../src/replay/run-suite.js';
import { runPool } from '../../src/replay/pool.js';
import { unclaimed, type PoolTask } from '../../src/replay/pool-schedule.js';
import type { JobRequest } from '../../src/replay/job.js';
import { DEFAULT_PROFILE } from '../../src/core/profile.js';
import type { JobResult } from '../../src/report/types.js';
import { repoPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';

const SHIPPED = repoPath('traces');

function modeledByJob(results: JobResult[]): string[] {
  return results.map((r) => `${r.trace}|${r.profile}|${r.repeat}|${r.status}|${JSON.stringify(r.modeled)}`);
}

test('modeled counters are identical for 1, 2 and 4 workers and across repeats', async () => {
  const runs = [];
  for (const workers of [1, 2, 4]) {
    runs.push(await runSuite({ inputs: [SHIPPED], workers, repeat: 2, profiles: [], check: false }));
  }
  const [one, two, four] = runs.map((r) => modeledByJob(r.results));
  assert.ok(one!.length >= 8, `expected at least 4 traces x 2 repeats, got ${one!.length} jobs`);
  assert.ok(runs[0]!.results.every((r) => r.status === 'ok'), 'every shipped trace replays');
  assert.deepEqual(two, one);
  assert.deepEqual(four, one);
  for (const r of runs[0]!.results.filter((x) => x.repeat === 1)) {
    const first: JobResult = runs[0]!.results.find((x) => x.trace === r.trace && x.profile === r.profile && x.repeat === 0)!;
    assert.deepEqual(r.modeled, first.modeled, `${r.trace} repeat 1 equals repeat 0`);
  }
});

/** `repeat` jobs of one trace under the default profile, as a suite would plan them. */
function repeatsOf(trace: string, tracePath: string, repeat: number): JobRequest[] {
  return Array.from({ length: repeat }, (_, r) => ({ index: r, trace, tracePath, profile: DEFAULT_PROFILE, repeat: r, check: false }));
}

/** A join policy that takes any running task with a job left: every free worker shares. */
function alwaysJoin(running: Iterable<PoolTask>): PoolTask | undefined {
  for (const task of running) if (unclaimed(task) > 0) return task;
  return undefined;
}

test('a task shared by two workers gives each repeat the counters of a single worker, in job order', async () => {
  const jobs = repeatsOf('dirty-logging', repoPath('traces', 'recorded', 'dirty-logging.csv'), 6);
  const alone = await runPool(jobs, { workers: 1 });
  const shared = await runPool(jobs, { workers: 2, join: alwaysJoin });
  // The second worker finds no task to start and joins the first at once.
  assert.equal(shared.joins, 1);
  assert.equal(alone.joins, 0);
  assert.deepEqual(modeledByJob(shared.results), modeledByJob(alone.results));
  assert.deepEqual(shared.results.map((r) => r.repeat), [0, 1, 2, 3, 4, 5]);
  assert.ok(shared.results.every((r) => r.status === 'ok'));
  assert.ok((shared.results[0]!.modeled['events'] ?? 0) > 0);
});

test('a worker with no task to start and none worth joining counts as idle until the last job is done', async () => {
  const jobs = repeatsOf('dirty-logging', repoPath('traces', 'recorded', 'dirty-logging.csv'), 1);
  const { results, joins, idleMs } = await runPool(jobs, { workers: 2 });
  assert.equal(results[0]!.status, 'ok');
  assert.equal(joins, 0);
  // The second worker had nothing from the start: idle for about the job's whole load and replay.
  assert.ok(idleMs > 0, `idle ${idleMs} ms`);
});

test('a job timing out in a shared task fails it and the repeats nobody claimed; the other worker\'s finish', async () => {
  const dir = await tempDir('shared-hang');
  const hang = join(dir, 'hang.csv');
  await writeFile(hang, '# s2bench trace v1\nop,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\nmemslot,,0,0x200000,0,,0x7f0000000000,,,,0\nread,0,0x1000,,,,,,,,ok\n');
  const { results } = await runPool(repeatsOf('hang', hang, 6), {
    workers: 2,
    join: alwaysJoin,
    jobTimeoutMs: 2000,
    workerFile: new URL('./fixtures/failing-worker.js', import.meta.url),
  });
  assert.equal(results.length, 6);
  assert.equal(results[0]!.status, 'ok');
  assert.equal(results[1]!.status, 'failed');
  assert.match(results[1]!.error ?? '', /timed out after 2 s/);
  for (const r of results.slice(2)) {
    if (r.status === 'failed') assert.match(r.error ?? '', /not run: repeat 1 of this trace and profile timed out/);
  }
});

test('a job that throws and a worker that dies fail alone; every other result is kept', async () => {
  const dir = await tempDir('pool');
  const good = join(dir, 'good.csv');
  await cp(repoPath('traces', 'demand-paging.csv'), good).catch(async () => {
    await writeFile(good, '# s2bench trace v1\nop,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\nmemslot,,0,0x200000,0,,0x7f0000000000,,,,0\nread,0,0x1000,,,,,,,,ok\n');
  });
  for (const name of ['crash-throw', 'crash-exit']) await cp(good, join(dir, `${name}.csv`));
  const { results } = await runSuite({
    inputs: [dir],
    workers: 2,
    repeat: 1,
    profiles: [],
    check: false,
    workerFile: new URL('./fixtures/failing-worker.js', import.meta.url),
  });
  const byTrace = Object.fromEntries(results.map((r) => [r.trace, r]));
  assert.equal(byTrace['good']!.status, 'ok');
  assert.ok((byTrace['good']!.modeled['events'] ?? 0) > 0);
  assert.equal(byTrace['crash-throw']!.status, 'failed');
  assert.match(byTrace['crash-throw']!.error ?? '', /injected failure/);
  assert.equal(byTrace['crash-exit']!.status, 'failed');
  assert.match(byTrace['crash-exit']!.error ?? '', /worker died/);
});

test('a malformed trace fails its job with the reader\'s message and the suite goes on', async () => {
  const dir = await tempDir('bad');
  await writeFile(join(dir, 'bad.csv'), '# s2bench trace v1\nop,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\nfrobnicate,,0,,,,,,,,\n');
  await writeFile(join(dir, 'ok.csv'), '# s2bench trace v1\nop,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\nmemslot,,0,0x200000,0,,0x7f0000000000,,,,0\n');
  const { results } = await runSuite({ inputs: [dir], workers: 1, repeat: 1, profiles: [], check: false });
  const bad = results.find((r) => r.trace === 'bad')!;
  assert.equal(bad.status, 'failed');
  assert.match(bad.error ?? '', /bad\.csv.*line 3.*frobnicate|frobnicate.*line 3/s);
  assert.equal(results.find((r) => r.trace === 'ok')!.status, 'ok');
});

test("a trace whose own profile does not parse fails its jobs with the parser's message, not under a default", async () => {
  const dir = await tempDir('profile');
  const body = 'op,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\nmemslot,,0,0x200000,0,,0x7f0000000000,,,,0\n';
  await writeFile(join(dir, 'typo.csv'), `# s2bench trace v1\n# profile: x86-tdp,gmem-folio=3m\n${body}`);
  await writeFile(join(dir, 'fine.csv'), `# s2bench trace v1\n${body}`);
  const { results } = await runSuite({ inputs: [dir], workers: 0, repeat: 1, profiles: [], check: false });
  const typo = results.find((r) => r.trace === 'typo')!;
  assert.equal(typo.status, 'failed');
  assert.equal(typo.profile, 'x86-tdp,gmem-folio=3m');
  assert.match(typo.error ?? '', /bad value '3m' for knob 'gmem-folio'.*valid values are 4k\|2m\|1g/);
  assert.equal(results.find((r) => r.trace === 'fine')!.status, 'ok');
});

test("run: a trace x profile job of the other architecture fails with the arch message; the rest of the suite runs", async () => {
  const dir = await tempDir('arch');
  await cp(repoPath('traces', 'pkvm', 'hypshare-churn.csv'), join(dir, 'arm.csv'));
  await writeFile(join(dir, 'x86.csv'), '# s2bench trace v1\n# arch: x86_64\nop,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\nmemslot,,0,0x200000,0,,0x7f0000000000,,,,0\n');
  const { results } = await runSuite({ inputs: [dir], workers: 0, repeat: 1, profiles: [parseProfile('x86-tdp')], check: false });
  const byTrace = Object.fromEntries(results.map((r) => [r.trace, r]));
  assert.equal(byTrace['x86']!.status, 'ok');
  assert.equal(byTrace['arm']!.status, 'failed');
  assert.match(byTrace['arm']!.error ?? '', /profile 'x86-tdp' models x86-tdp, but the trace is '# arch: aarch64' \(line 3, field arch\): give an arm64-s2 profile/);
});
