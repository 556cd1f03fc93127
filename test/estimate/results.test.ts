// The estimates a run writes are reproducible from its results.csv and the cost table alone, the report
// marks them as estimates with the table's source, and compare lists estimate deltas (priced with one
// table on both sides) without counting them as behaviour changes of their own.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { costsFor, loadDefaultCostTable } from '../../src/estimate/costs.js';
import { estimateMetrics, isEstimateMetric } from '../../src/estimate/estimate.js';
import { compareRuns } from '../../src/report/compare.js';
import { DEFAULT_COMPARE_OPTIONS } from '../../src/report/compare-options.js';
import { groupJobs } from '../../src/report/groups.js';
import { parseResultsCsv } from '../../src/report/results.js';
import type { JobResult } from '../../src/report/types.js';
import { repoPath } from '../helpers/paths.js';
import { job, syntheticRunInfo } from '../report/synthetic.js';

const CLI = repoPath('dist', 'src', 'cli', 'main.js');

function s2bench(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
}

describe('estimate.* in results', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 's2bench-estimate-'));
    await mkdir(join(dir, 'traces'));
    // Small traces that exercise every cause: faults and dirty logging, memslot churn, guest_memfd.
    for (const [gen, ...args] of [
      ['dirty-log', '--vcpu-pages', '64', '--iterations', '2'],
      ['memslots', '--slots', '8'],
      ['conversions', '--rounds', '16', '--punch'],
    ]) {
      const r = s2bench('gen', gen!, ...args, '-o', join(dir, 'traces', `${gen}.csv`));
      assert.equal(r.status, 0, r.stderr);
    }
    const run = s2bench('run', join(dir, 'traces'), '-w', '0', '-r', '1', '-q', '-o', join(dir, 'run'));
    assert.equal(run.status, 0, run.stderr + run.stdout);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('are reproducible from results.csv and the cost table alone', async () => {
    const rows = parseResultsCsv(await readFile(join(dir, 'run', 'results.csv'), 'utf8'), 'results.csv');
    const { table } = loadDefaultCostTable();
    const jobs = new Map<string, Record<string, number>>();
    for (const r of rows) {
      const key = `${r.trace}\u0000${r.profile}\u0000${r.repeat}`;
      jobs.set(key, { ...jobs.get(key), [r.metric]: r.value });
    }
    const causes = new Set<string>();
    for (const [key, metrics] of jobs) {
      const profile = key.split('\u0000')[1]!;
      const counts = Object.fromEntries(Object.entries(metrics).filter(([m]) => !isEstimateMetric(m)));
      const written = Object.fromEntries(Object.entries(metrics).filter(([m]) => isEstimateMetric(m)));
      assert.deepEqual(written, estimateMetrics(counts, costsFor(table, profile)!), key);
      for (const [m, v] of Object.entries(written)) if (v > 0) causes.add(m);
    }
    for (const cause of ['estimate.faults_ms', 'estimate.dirty_log_ms', 'estimate.memslots_ms', 'estimate.total_ms', 'estimate.unpriced']) {
      assert.ok(causes.has(cause), `some trace has a non-zero ${cause}`);
    }
  });

  it('are marked as estimates with the cost table\'s source in run.json and report.html', async () => {
    const info = JSON.parse(await readFile(join(dir, 'run', 'run.json'), 'utf8')) as { options: { costs: string } };
    assert.match(info.options.costs, /this machine kind.*\(costs\/default\.json\)$/);
    const html = await readFile(join(dir, 'run', 'report.html'), 'utf8');
    assert.match(html, /est\. guest time/);
    assert.match(html, /<b>estimate<\/b>, modeled counts × per-event costs from default table/);
    assert.match(html, /class="badge neutral">estimate<\/span> guest-visible time/);
  });

  it('replay prints them with the table they were priced with; --costs takes the user\'s own', async () => {
    const trace = join(dir, 'traces', 'dirty-log.csv');
    const plain = s2bench('replay', trace);
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stdout, /estimate\.dirty_log_ms\s+[0-9.]+ ms \(estimate\)/);
    assert.match(plain.stdout, /estimate\.\* are estimates priced with default table/);
    const mine = join(dir, 'mine.json');
    await writeFile(mine, JSON.stringify({ format: 1, label: 'my laptop', profiles: { 'x86-tdp': { dirty_log_slot: { ns: 1e6 } } } }));
    const own = s2bench('replay', trace, '--costs', mine, '--json');
    assert.equal(own.status, 0, own.stderr);
    const out = JSON.parse(own.stdout) as { counters: Record<string, number>; costs: string };
    assert.equal(out.counters['estimate.dirty_log_ms'], out.counters['dirty.gets']! * 1);
    assert.match(out.costs, /my laptop/);
  });

  it('compare between two profiles lists estimate deltas, each side priced as its own profile', async () => {
    const two = s2bench('run', join(dir, 'traces'), '-w', '0', '-r', '1', '-q', '-p', 'x86-tdp', '-p', 'x86-tdp,eager-split=off', '-o', join(dir, 'two'));
    assert.equal(two.status, 0, two.stderr);
    const c = s2bench('compare', join(dir, 'two'), join(dir, 'two'), '--base-profile', 'x86-tdp', '--new-profile', 'x86-tdp,eager-split=off', '--allow-behaviour-change');
    assert.equal(c.status, 0, c.stderr + c.stdout);
    assert.match(c.stdout, /estimated guest-visible time \(ESTIMATES from counts x costs: default table/);
    assert.match(c.stdout, /dirty-log\s+x86-tdp -> x86-tdp,eager-split=off\s+estimate\.dirty_log_ms/);
    const csv = await readFile(join(dir, 'two', 'compare.csv'), 'utf8');
    assert.match(csv, /^estimate,dirty-log,"x86-tdp -> x86-tdp,eager-split=off",estimate\.total_ms,ms,/m);
  });

  it('a bad --costs file stops the command, naming the file and the field', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ format: 1, label: 'x', profiles: { 'x86-tdp': { fault_4k: { ns: 0 } } } }));
    for (const args of [['replay', join(dir, 'traces', 'dirty-log.csv')], ['run', join(dir, 'traces'), '-w', '0', '-r', '1', '-q', '-o', join(dir, 'bad-run')], ['compare', join(dir, 'run'), join(dir, 'run')]]) {
      const r = s2bench(...args, '--costs', bad);
      assert.equal(r.status, 1, args[0]);
      assert.match(r.stderr, /--costs: .*bad\.json: field 'profiles\.x86-tdp\.fault_4k\.ns': must be a positive number/);
    }
  });
});

describe('compare with estimates', () => {
  const costs = { table: loadDefaultCostTable().table, source: 'test table' };
  const run = (leaves: number, estimate: number): JobResult[] =>
    [0, 1].map((repeat) => job('sweep', 'x86-tdp', repeat, { modeled: { events: 10, 'leaves.4k': leaves, 'estimate.total_ms': estimate } }));

  it('shows estimate deltas priced with one table on both sides, not as behaviour changes', () => {
    // The stored estimates (99, 1) are stale on purpose: compare prices both sides' counts itself.
    const base = run(100, 99);
    const next = run(300, 1);
    const c = compareRuns(
      { dir: 'a', info: syntheticRunInfo('a', base), jobs: base, groups: groupJobs(base) },
      { dir: 'b', info: syntheticRunInfo('b', next), jobs: next, groups: groupJobs(next) },
      { ...DEFAULT_COMPARE_OPTIONS, costs },
    );
    assert.deepEqual(c.modeled.filter((m) => m.changed).map((m) => m.metric), ['leaves.4k']);
    assert.equal(c.behaviourChanges, 1);
    const faults = c.estimates.find((x) => x.metric === 'estimate.faults_ms')!;
    const perFault = costs.table.profiles['x86-tdp']!.fault_4k!.ns;
    assert.ok(Math.abs(faults.delta - (200 * perFault) / 1e6) < 1e-9);
    assert.equal(c.costSource, 'test table');
    assert.equal(JSON.stringify(c.options), JSON.stringify({ threshold: 0.05, alpha: 0.05 }));
  });
});
