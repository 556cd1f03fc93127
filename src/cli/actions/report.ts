// `s2bench report DIR` re-renders a run's report.html from its results.csv and run.json;
// `s2bench compare BASE NEW` compares two runs for CI: exit 0 = no regression, 1 = regression or
// behaviour change (or a failed job in NEW), 2 = usage or input error.

import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../report/atomic.js';
import { parseProfile } from '../../core/profile.js';
import { pairProfiles } from '../../report/profile-pairs.js';
import { compareRuns, comparisonFails, type Comparison } from '../../report/compare.js';
import { formatCompareCsv, formatCompareText } from '../../report/compare-output.js';
import { RUN_FILES } from '../../report/files.js';
import { renderComparePage } from '../../report/html/compare-page.js';
import { isIncomplete, readRunDir, type LoadedRun } from '../../report/run-dir.js';
import { renderRunReport } from '../../report/write.js';
import { InputError, RunDirError, UsageError } from '../../errors.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import { loadCostsOption } from './costs-option.js';

export interface CompareCliOptions {
  allowIncomplete: boolean;
  threshold: string;
  alpha: string;
  json: boolean;
  allowBehaviourChange: boolean;
  out?: string;
  baseProfile?: string;
  newProfile?: string;
  costs?: string;
}

/** `report`: re-renders the run's report.html (with --baseline, its comparison too). */
export async function reportAction(dir: string, opts: { baseline?: string }): Promise<void> {
  const run = await loadRun(dir);
  if (isIncomplete(run.info)) process.stderr.write(`s2bench: warning: ${dir} is an incomplete run: the report shows the ${run.info.jobs.length} job(s) that finished\n`);
  const result = await renderRunReport(run.dir, run.info, run.jobs, opts.baseline !== undefined ? { baselineDir: resolve(opts.baseline) } : {});
  if (result.baselineError !== undefined) throw new UsageError(result.baselineError);
  process.stdout.write(`report: ${join(run.dir, RUN_FILES.report)}\n`);
  process.exitCode = EXIT_OK;
}

/** `5%`, `5` or `0.05%` -> fraction. */
export function parseThreshold(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  const pct = m ? Number(m[1]) : NaN;
  if (!Number.isFinite(pct) || pct >= 1000) throw new UsageError(`--threshold takes a percentage such as 5%, not '${text}'`);
  return pct / 100;
}

function parseAlpha(text: string): number {
  const p = Number(text);
  if (!(p > 0 && p < 1)) throw new UsageError(`--alpha takes a probability between 0 and 1, not '${text}'`);
  return p;
}

/** A missing or malformed results directory is a RunDirError: exit 2, like any bad argument. */
function loadRun(dir: string): Promise<LoadedRun> {
  return readRunDir(resolve(dir));
}

/**
 * A CI gate must not pass on no data: a run with no results at all, or one that died part-way (unless
 * the user says it will do), is refused as a bad argument (exit 2).
 */
function checkComparable(run: LoadedRun, allowIncomplete: boolean): void {
  if (isIncomplete(run.info) && !allowIncomplete) {
    throw new RunDirError(`${run.dir}: an incomplete run (it did not finish): compare it with --allow-incomplete, or run it again`);
  }
  const figures = run.jobs.reduce((n, j) => n + Object.keys(j.modeled).length + Object.keys(j.timing).length, 0);
  if (figures === 0) throw new RunDirError(`${run.dir}: no results in ${RUN_FILES.results}: nothing to compare`);
}

export async function compareCommand(baseDir: string, newDir: string, opts: CompareCliOptions): Promise<number> {
  const costs = await loadCostsOption(opts.costs);
  const options = { threshold: parseThreshold(opts.threshold), alpha: parseAlpha(opts.alpha), costs: { table: costs.table, source: costs.source } };
  let [base, next] = await Promise.all([loadRun(baseDir), loadRun(newDir)]);
  for (const run of [base, next]) checkComparable(run, opts.allowIncomplete);
  if ((opts.baseProfile === undefined) !== (opts.newProfile === undefined)) {
    throw new UsageError('--base-profile and --new-profile go together');
  }
  if (opts.baseProfile !== undefined && opts.newProfile !== undefined) {
    [base, next] = pairProfiles(base, next, parseProfile(opts.baseProfile).name, parseProfile(opts.newProfile).name);
  }
  const comparison: Comparison = compareRuns(base, next, options);
  const outDir = resolve(opts.out ?? next.dir);
  try {
    await writeFileAtomic(join(outDir, RUN_FILES.compareCsv), formatCompareCsv(comparison));
    await writeFileAtomic(join(outDir, RUN_FILES.compareHtml), renderComparePage(comparison, opts.allowBehaviourChange));
  } catch (err) {
    throw new InputError(`cannot write the comparison into ${outDir}: ${(err as Error).message}`);
  }
  if (opts.json) process.stdout.write(JSON.stringify(comparison, null, 2) + '\n');
  else {
    process.stdout.write(formatCompareText(comparison, opts.allowBehaviourChange));
    process.stdout.write(`compare: ${join(outDir, RUN_FILES.compareHtml)}\n`);
  }
  return comparisonFails(comparison, opts.allowBehaviourChange) ? EXIT_FAILURE : EXIT_OK;
}
