// Writes one run's directory: run.json, results.csv, summary.csv and report.html, each atomically, so a
// run interrupted half-way leaves either the previous file or the new one, never a torn one. With a
// baseline, the comparison goes into report.html and into compare.csv / compare.html beside it.

import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { compareRuns, type Comparison } from './compare.js';
import { DEFAULT_COMPARE_OPTIONS, type CompareOptions } from './compare-options.js';
import { formatCompareCsv } from './compare-output.js';
import { RUN_FILES } from './files.js';
import { groupJobs, type Group } from './groups.js';
import { renderComparePage } from './html/compare-page.js';
import { renderReport } from './html/report-page.js';
import { formatResultsCsv, resultRows } from './results.js';
import { compareProfileSteps, type StepComparison } from './profile-steps.js';
import { readRunDir } from './run-dir.js';
import { formatSeriesCsv, readSeriesFile, SERIES_FILE, seriesOfJobs, type SeriesByGroup } from './series.js';
import { formatSummaryCsv } from './summary.js';
import type { JobResult, RunInfo } from './types.js';

export interface WriteRunOptions {
  /** A previous run's directory: its comparison with this run is embedded in report.html. */
  baselineDir?: string;
  compare?: CompareOptions;
}

export interface WriteRunResult {
  comparison?: Comparison;
  /** Why the baseline could not be compared (missing or malformed files); the run is written anyway. */
  baselineError?: string;
}

export async function writeRun(dir: string, runInfo: RunInfo, jobs: readonly JobResult[], options: WriteRunOptions = {}): Promise<WriteRunResult> {
  const groups = groupJobs(jobs);
  await writeFileAtomic(join(dir, RUN_FILES.info), JSON.stringify(runInfo, null, 2) + '\n');
  await writeFileAtomic(join(dir, RUN_FILES.results), formatResultsCsv(resultRows(runInfo.runId, jobs)));
  await writeFileAtomic(join(dir, RUN_FILES.summary), formatSummaryCsv(groups));
  await writeFileAtomic(join(dir, SERIES_FILE), formatSeriesCsv(seriesOfJobs(jobs)));
  return renderRunReport(dir, runInfo, jobs, options);
}

/**
 * Writes report.html (and, with a baseline, compare.csv and compare.html) from a run's results without
 * touching its data files: `writeRun` after the data, and `s2bench report DIR` on its own.
 */
export async function renderRunReport(dir: string, runInfo: RunInfo, jobs: readonly JobResult[], options: WriteRunOptions = {}): Promise<WriteRunResult> {
  const groups = groupJobs(jobs);
  const result = options.baselineDir !== undefined ? await compareWithBaseline(dir, runInfo, jobs, groups, options) : {};
  // Fresh results carry their series; a run read back from disk has them in series.csv.
  const series = jobs.some((j) => j.series !== undefined) ? seriesOfJobs(jobs) : await readSeriesFile(dir);
  const steps = compareProfileSteps({ dir, info: runInfo, jobs: [...jobs], groups }, options.compare ?? DEFAULT_COMPARE_OPTIONS);
  await renderReportFile(dir, runInfo, groups, { ...result, series, steps });
  return {
    ...(result.comparison ? { comparison: result.comparison } : {}),
    ...(result.baselineError !== undefined ? { baselineError: result.baselineError } : {}),
  };
}

async function compareWithBaseline(
  dir: string,
  info: RunInfo,
  jobs: readonly JobResult[],
  groups: Group[],
  options: WriteRunOptions,
): Promise<WriteRunResult & { baselineGroups?: Group[] }> {
  let base;
  try {
    base = await readRunDir(options.baselineDir!);
  } catch (err) {
    return { baselineError: (err as Error).message };
  }
  const comparison = compareRuns(base, { dir, info, jobs: [...jobs], groups }, options.compare ?? DEFAULT_COMPARE_OPTIONS, true);
  await writeFileAtomic(join(dir, RUN_FILES.compareCsv), formatCompareCsv(comparison));
  await writeFileAtomic(join(dir, RUN_FILES.compareHtml), renderComparePage(comparison));
  return { comparison, baselineGroups: base.groups };
}

/** Renders report.html from a run's groups and, when given, its comparison with a baseline. */
async function renderReportFile(
  dir: string,
  info: RunInfo,
  groups: Group[],
  extra: WriteRunResult & { baselineGroups?: Group[]; series?: SeriesByGroup; steps?: StepComparison[] } = {},
): Promise<void> {
  const html = renderReport({
    info,
    groups,
    ...(extra.series ? { series: extra.series } : {}),
    ...(extra.steps ? { steps: extra.steps } : {}),
    ...(extra.comparison ? { comparison: extra.comparison } : {}),
    ...(extra.baselineGroups ? { baselineGroups: extra.baselineGroups } : {}),
    ...(extra.baselineError ? { baselineError: extra.baselineError } : {}),
  });
  await writeFileAtomic(join(dir, RUN_FILES.report), html);
}
