// `s2bench run`: the main job. Traces x profiles x repeats on a worker pool, results and report
// written under reports/<run-id>/, a short summary on stdout, exit 1 when any job failed.

import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { microJobResult, runMicro } from '../../microbench/micro.js';
import { DEFAULT_PROFILE, parseProfile } from '../../core/profile.js';
import { runSuite, type SuiteOptions, type SuiteRun } from '../../replay/run-suite.js';
import { parseSuiteShard } from '../../replay/suite.js';
import type { JobResult, PoolInfo, RunInfo } from '../../report/types.js';
import { collectRunInfo } from '../../report/run-info.js';
import { comparisonFails } from '../../report/compare.js';
import { DEFAULT_COMPARE_OPTIONS } from '../../report/compare-options.js';
import { formatCompareText } from '../../report/compare-output.js';
import { renderRunReport, writeRun } from '../../report/write.js';
import { RunJournal } from '../../report/journal.js';
import { terminalText } from '../../report/terminal.js';
import { UsageError } from '../../errors.js';
import { EXIT_FAILURE } from '../exit-codes.js';
import { addEstimates } from '../../estimate/apply.js';
import { loadCostsOption } from './costs-option.js';
import { printSummary } from './run-summary.js';
import { maxEventsOption } from './max-events-option.js';
import { newRunId } from './run-id.js';
import { defaultMaxMemory, maxMemoryOption } from './memory-option.js';

/** Per micro-benchmark case when `run --micro`: short, since the suite is the main job. */
const MICRO_TIME_MS = 300;

export interface RunCliOptions {
  workers: string;
  repeat: string;
  profile: string[];
  out?: string;
  filter?: string;
  check: boolean;
  quiet: boolean;
  shard?: string;
  baseline?: string;
  micro: boolean;
  force: boolean;
  jobTimeout: string;
  maxEvents: string;
  maxMemory?: string;
  costs?: string;
}

function jobTimeoutMs(text: string): number {
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 0) throw new UsageError(`--job-timeout takes a number of seconds >= 0, not '${text}'`);
  return seconds === 0 ? Infinity : seconds * 1000;
}

function positiveInt(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} takes a whole number >= ${min}, not '${text}'`);
  return n;
}

export async function runCommand(inputs: string[], opts: RunCliOptions): Promise<number> {
  const startedAt = new Date();
  const runId = newRunId(startedAt);
  const outDir = resolve(opts.out ?? join('reports', runId));
  // Command-line profiles are parsed here, at the boundary: a typo is a usage error, not failed jobs.
  const profiles = opts.profile.map(parseProfile);
  const costs = await loadCostsOption(opts.costs);
  const workers = positiveInt('workers', opts.workers, 0);
  const suiteOptions: SuiteOptions = {
    inputs,
    workers,
    repeat: positiveInt('repeat', opts.repeat, 1),
    profiles,
    check: opts.check,
    maxEvents: maxEventsOption(opts.maxEvents),
    maxMemoryBytes: maxMemoryOption(opts.maxMemory, defaultMaxMemory(workers)),
    ...(opts.filter !== undefined ? { filter: opts.filter } : {}),
    ...(opts.shard !== undefined ? { shard: parseSuiteShard(opts.shard) } : {}),
  };

  suiteOptions.jobTimeoutMs = jobTimeoutMs(opts.jobTimeout);
  const planInfo = await collectRunInfo({ runId, startedAt, finishedAt: startedAt, options: plainOptions(suiteOptions, costs.source), traces: [], results: [] });
  const journal = await RunJournal.open(outDir, planInfo, opts.force);

  const bar = !opts.quiet && process.stderr.isTTY ? newProgressBar() : undefined;
  suiteOptions.onPlan = (jobs) => bar?.start(jobs.length, 0, { job: '' });
  suiteOptions.onResult = (result: JobResult, done: number) => {
    bar?.update(done, { job: terminalText(`${result.trace} ${result.profile}`) });
    return journal.record(result);
  };
  let suite;
  try {
    suite = await runSuite(suiteOptions);
    if (suite.jobs.length === 0) throw new UsageError(`no traces found in ${inputs.join(', ')}${opts.filter ? ` matching ${opts.filter}` : ''}`);
  } catch (err) {
    await journal.abandon();
    throw err;
  } finally {
    bar?.stop();
  }

  // Estimates are priced here, after the replays: the core only counts.
  const results = addEstimates(suite.results, costs.table);
  if (opts.micro) {
    // After the pool has stopped, so the micro figures are not measured against busy workers.
    const profile = profiles[0] ?? DEFAULT_PROFILE;
    const micro = microJobResult(profile, await runMicro(profile, { timeMs: MICRO_TIME_MS }));
    results.push(micro);
    await journal.record(micro);
  }
  await journal.close();
  const pool = poolInfo(suite, Math.max(1, suiteOptions.workers));
  const runInfo: RunInfo = {
    ...(await collectRunInfo({
      runId,
      startedAt,
      finishedAt: new Date(),
      options: plainOptions(suiteOptions, costs.source),
      traces: suite.traces,
      results,
    })),
    complete: true,
    pool,
  };
  // The whole run into the staging directory, then into place; the baseline comparison after, so
  // that it names the run's real directory.
  await writeRun(journal.staging, runInfo, results);
  await journal.commit();
  const compare = { ...DEFAULT_COMPARE_OPTIONS, costs: { table: costs.table, source: costs.source } };
  const written = opts.baseline !== undefined ? await renderRunReport(outDir, runInfo, results, { baselineDir: opts.baseline, compare }) : {};
  printSummary(results, outDir, costs.source);
  process.stdout.write(
    `pool: ${pool.workers} worker(s), ${(pool.wallMs / 1000).toFixed(2)} s wall, utilization ${(pool.utilization * 100).toFixed(0)}% (timed loads and replays; JIT warm-ups not counted), idle ${((pool.idleMs ?? 0) / 1000).toFixed(2)} worker-s, ${joins(pool.joins ?? 0)}\n`,
  );
  let regressed = false;
  if (written.baselineError !== undefined) {
    process.stderr.write(`s2bench: baseline ${opts.baseline} not compared: ${written.baselineError}\n`);
  } else if (written.comparison !== undefined) {
    process.stdout.write(formatCompareText(written.comparison, false));
    regressed = comparisonFails(written.comparison, false);
  }
  return regressed || results.some((r) => r.status === 'failed') ? EXIT_FAILURE : 0;
}

/** The suite's options as run.json records them: no callbacks, no infinities (JSON has none). */
function plainOptions(options: SuiteOptions, costs: string): object {
  const { onPlan: _plan, onResult: _result, workerFile: _worker, jobTimeoutMs, maxMemoryBytes, profiles, ...rest } = options;
  return {
    ...rest,
    profiles: profiles.map((p) => p.name),
    costs,
    jobTimeoutS: Number.isFinite(jobTimeoutMs) ? jobTimeoutMs! / 1000 : 0,
    maxMemoryBytes: Number.isFinite(maxMemoryBytes) ? maxMemoryBytes : 0,
  };
}

function poolInfo({ results, wallMs, joins, idleMs }: SuiteRun, workers: number): PoolInfo {
  // time.load_ms repeats a kept trace's one load on every repeat; time.read_ms is what each really read.
  const busyMs = results.reduce((sum, r) => sum + (r.timing['time.read_ms'] ?? r.timing['time.load_ms'] ?? 0) + (r.timing['time.replay_ms'] ?? 0), 0);
  return { workers, wallMs, busyMs, utilization: busyMs / (workers * wallMs), joins, idleMs };
}

/** What joining running tasks cost the run: one more untimed warm-up replay each. */
function joins(n: number): string {
  return n === 0 ? 'no task shared' : `${n} task share(s): ${n} extra warm-up replay(s)`;
}

function newProgressBar(): cliProgress.SingleBar {
  return new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'replay [{bar}] {value}/{total} jobs | {duration_formatted} | {job}',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
}
