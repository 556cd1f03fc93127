import { strict as assert } from 'node:assert';
import { readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compareRuns, compareSamples } from '../../src/report/compare.js';
import { DEFAULT_COMPARE_OPTIONS } from '../../src/report/compare-options.js';
import { groupJobs } from '../../src/report/groups.js';
import type { LoadedRun } from '../../src/report/run-dir.js';
import type { JobResult } from '../../src/report/types.js';
import { writeRun } from '../../src/report/write.js';
import { job, syntheticRunInfo } from './synthetic.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

/** Replay times of 5 repeats; the slowed run takes 1.5x as long on every repeat. */
const TIMES = [40.1, 41.3, 39.8, 40.6, 40.9];

function suite(scale = 1, modeled: Record<string, number> = {}, traces = ['boot', 'sweep']): JobResult[] {
  return traces.flatMap((trace) =>
    TIMES.map((ms, repeat) =>
      job(trace, 'x86-tdp', repeat, {
        modeled: { events: 1000, faults: 40, 'faults.fixed': 38, 'mapped.2m': 4194304, ...modeled },
        timing: { 'time.replay_ms': ms * scale, 'rate.events_per_s': 1000 / ((ms * scale) / 1000) },
      }),
    ),
  );
}

function loaded(dir: string, jobs: JobResult[]): LoadedRun {
  return { dir, info: syntheticRunInfo(dir, jobs), jobs, groups: groupJobs(jobs) };
}

describe('compareRuns', () => {
  it('finds no behaviour change and no significant timing change between identical runs', () => {
    const c = compareRuns(loaded('a', suite()), loaded('b', suite()));
    assert.equal(c.behaviourChanges, 0);
    assert.equal(c.regressions, 0);
    assert.equal(c.timing.length, 4);
    for (const t of c.timing) {
      assert.equal(t.verdict, 'no significant change');
      assert.equal(t.ratio, 1);
      assert.equal(t.p, 1);
    }
  });

  it('lists every modeled difference per trace, profile and metric', () => {
    const c = compareRuns(loaded('a', suite()), loaded('b', suite(1, { faults: 41, splits: 2 }, ['boot', 'sweep'])));
    assert.equal(c.behaviourChanges, 4);
    assert.deepEqual(
      c.modeled.filter((m) => m.changed).map((m) => [m.trace, m.metric, m.base, m.new]),
      [
        ['boot', 'faults', 40, 41],
        ['boot', 'splits', null, 2],
        ['sweep', 'faults', 40, 41],
        ['sweep', 'splits', null, 2],
      ],
    );
  });

  it('names traces whose content hash differs between the runs', () => {
    const next = loaded('b', suite());
    next.info = { ...next.info, traces: next.info.traces.map((t) => (t.name === 'boot' ? { ...t, sha256: 'ef'.repeat(32) } : t)) };
    assert.deepEqual(compareRuns(loaded('a', suite()), next).changedTraces, ['boot']);
  });

  it('does not count a metric new to one side as a change while it is zero', () => {
    const c = compareRuns(loaded('a', suite()), loaded('b', suite(1, { 'iotlb.leaked': 0 })));
    assert.equal(c.behaviourChanges, 0);
  });

  it('reports a 1.5x slower replay as a regression on time and on rate, with the interval around 1.5', () => {
    const c = compareRuns(loaded('a', suite()), loaded('b', suite(1.5)));
    assert.equal(c.regressions, 4);
    const t = c.timing.find((x) => x.trace === 'boot' && x.metric === 'time.replay_ms')!;
    assert.equal(t.verdict, 'regression');
    assert.ok(Math.abs(t.ratio - 1.5) < 1e-12);
    assert.ok(Math.abs(t.p - 2 / 252) < 1e-12, `p = ${t.p}`); // complete separation, 5 vs 5, exact
    assert.ok(t.ciLow > 1.4 && t.ciHigh < 1.6, `CI ${t.ciLow}..${t.ciHigh}`);
    assert.equal(c.timing.find((x) => x.trace === 'boot' && x.metric === 'rate.events_per_s')!.verdict, 'regression');
  });

  it('calls a faster run an improvement, and a significant change under the threshold within threshold', () => {
    const faster = compareRuns(loaded('a', suite()), loaded('b', suite(0.5)));
    assert.equal(faster.regressions, 0);
    assert.deepEqual(new Set(faster.timing.map((t) => t.verdict)), new Set(['improvement']));
    // +2.5%, every new sample above every base sample: significant, but under the 5% threshold.
    const small = compareSamples({ trace: 't', profile: 'p' }, 'time.replay_ms', [40.0, 40.1, 40.2, 40.3, 40.4], [41.0, 41.1, 41.2, 41.3, 41.4], DEFAULT_COMPARE_OPTIONS);
    assert.equal(small.verdict, 'within threshold');
  });

  it('flags sample sizes that can never reach significance', () => {
    const t = compareSamples({ trace: 't', profile: 'p' }, 'time.replay_ms', [1, 2, 3], [10, 11, 12], DEFAULT_COMPARE_OPTIONS);
    assert.equal(t.p, 0.1);
    assert.equal(t.underpowered, true);
    assert.equal(t.verdict, 'no significant change');
  });
});

describe('s2bench compare', () => {
  let root: string;
  const dirs: Record<string, string> = {};
  before(async () => {
    root = await tempDir('compare');
    const runs: Record<string, JobResult[]> = {
      base: suite(),
      same: suite(),
      slow: suite(1.5),
      changed: suite(1, { faults: 41 }),
      other: suite(1, {}, ['boot', 'migrate']),
    };
    for (const [name, jobs] of Object.entries(runs)) {
      dirs[name] = join(root, name);
      await writeRun(dirs[name]!, syntheticRunInfo(name, jobs), jobs);
    }
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('exits 0 for identical runs and writes compare.csv and compare.html into NEW', async () => {
    const r = await runCli(['compare', dirs['base']!, dirs['same']!]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /no timing regression beyond 5%/);
    assert.match(r.stdout, /no behaviour change/);
    const csv = (await readFile(join(dirs['same']!, 'compare.csv'), 'utf8')).split('\n');
    assert.equal(csv[0], 'kind,trace,profile,metric,unit,base,new,delta_pct,ratio,ci_low,ci_high,p,n_base,n_new,verdict');
    assert.ok(csv.includes('modeled,boot,x86-tdp,faults,count,40,40,0,,,,,,,same'));
    const timing = csv.find((line) => line.startsWith('timing,boot,x86-tdp,time.replay_ms,'))!.split(',');
    assert.deepEqual([...timing.slice(4, 9), ...timing.slice(11)], ['ms', '40.6', '40.6', '0', '1', '1', '5', '5', 'no significant change']);
    // The bootstrap interval of the ratio straddles 1 (resampling each side independently widens it).
    assert.ok(Number(timing[9]) < 1 && Number(timing[10]) > 1, `CI ${timing[9]}..${timing[10]}`);
    assert.match(await readFile(join(dirs['same']!, 'compare.html'), 'utf8'), /^<!doctype html>/);
  });

  it('exits 1 on a slowed run and names the regression', async () => {
    const r = await runCli(['compare', dirs['base']!, dirs['slow']!, '--threshold', '10%']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /boot\s+x86-tdp\s+time\.replay_ms .*\+50\.0%.*REGRESSION/);
    assert.match(r.stdout, /4 timing regression\(s\) beyond 10%/);
  });

  it('exits 0 on the same slowdown when the threshold is above it', async () => {
    assert.equal((await runCli(['compare', dirs['base']!, dirs['slow']!, '--threshold', '60%'])).code, 0);
  });

  it('exits 1 on a behaviour change unless --allow-behaviour-change', async () => {
    const r = await runCli(['compare', dirs['base']!, dirs['changed']!]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /boot\s+x86-tdp\s+faults\s+40\s+41/);
    assert.equal((await runCli(['compare', dirs['base']!, dirs['changed']!, '--allow-behaviour-change'])).code, 0);
  });

  it('exits 1 when a job failed in NEW, and names it', async () => {
    const jobs = suite();
    jobs[0] = { ...jobs[0]!, status: 'failed', error: 'worker exited with code 134', modeled: {}, timing: {} };
    const dir = join(root, 'failed');
    await writeRun(dir, syntheticRunInfo('failed', jobs), jobs);
    const r = await runCli(['compare', dirs['base']!, dir]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /FAILED in new: boot \[x86-tdp\] repeat 0: worker exited with code 134/);
  });

  it('prints JSON with --json', async () => {
    const r = await runCli(['compare', dirs['base']!, dirs['changed']!, '--json']);
    const parsed = JSON.parse(r.stdout) as { behaviourChanges: number; regressions: number };
    assert.equal(parsed.behaviourChanges, 2);
    assert.equal(parsed.regressions, 0);
  });

  it('exits 2 for runs of different suites, naming the pairs on one side only', async () => {
    const r = await runCli(['compare', dirs['base']!, dirs['other']!]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /different suites/);
    assert.match(r.stderr, /only in .*base: sweep \[x86-tdp\]/);
    assert.match(r.stderr, /only in .*other: migrate \[x86-tdp\]/);
  });

  it('exits 2 for a missing results file or a bad threshold', async () => {
    const r = await runCli(['compare', dirs['base']!, join(root, 'nowhere')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nowhere.run\.json: not found/);
    assert.equal((await runCli(['compare', dirs['base']!, dirs['same']!, '--threshold', 'lots'])).code, 2);
  });

  it('re-renders report.html with `s2bench report DIR` from results.csv and run.json', async () => {
    const dir = dirs['same']!;
    const before = await readFile(join(dir, 'report.html'), 'utf8');
    await unlink(join(dir, 'report.html'));
    const r = await runCli(['report', dir]);
    assert.equal(r.code, 0);
    assert.equal(await readFile(join(dir, 'report.html'), 'utf8'), before);
  });

  it('embeds a baseline with `s2bench report DIR --baseline BASE`, and exits 2 when BASE is not a run', async () => {
    const dir = dirs['slow']!;
    const r = await runCli(['report', dir, '--baseline', dirs['base']!]);
    assert.equal(r.code, 0);
    assert.match(await readFile(join(dir, 'report.html'), 'utf8'), /REGRESSION: 4 timing metric\(s\)/);
    assert.match(await readFile(join(dir, 'compare.csv'), 'utf8'), /timing,boot,x86-tdp,time\.replay_ms,ms,40\.6,60\.9/);
    assert.equal((await runCli(['report', dir, '--baseline', join(root, 'nowhere')])).code, 2);
  });
});
