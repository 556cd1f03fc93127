// `s2bench report` and `compare` as the command line knows them: options and help. What they do is in
// ../actions/report.ts, imported when a command runs (the rule is in index.ts).

import type { Command } from 'commander';
import { DEFAULT_COMPARE_OPTIONS } from '../../report/compare-options.js';
import type { CompareCliOptions } from '../actions/report.js';

export function registerReportCommands(program: Command): void {
  program
    .command('report')
    .description('re-render report.html of a results directory from its results.csv and run.json')
    .argument('<dir>', 'results directory written by s2bench run (reports/<run-id>)')
    .option('--baseline <dir>', 'a previous run to compare with, embedded in the report (also writes compare.csv/.html)')
    .action(async (dir: string, opts: { baseline?: string }) => (await import('../actions/report.js')).reportAction(dir, opts));

  program
    .command('compare')
    .description('compare two runs: modeled metrics exactly, timings with a rank test; exit 1 on a regression')
    .argument('<base>', 'results directory of the baseline run')
    .argument('<new>', 'results directory of the run to judge')
    .option('-t, --threshold <pct>', 'smallest change of a median that counts as a regression', '5%')
    .option('--alpha <p>', 'significance level of the Mann-Whitney U test', String(DEFAULT_COMPARE_OPTIONS.alpha))
    .option('--json', 'print the comparison as JSON instead of a table', false)
    .option('--allow-behaviour-change', 'do not fail when modeled metrics differ', false)
    .option('--allow-incomplete', 'compare a run that did not finish (its finished jobs only)', false)
    .option('-o, --out <dir>', 'where to write compare.csv and compare.html (default: NEW)')
    .option('--base-profile <profile>', "compare BASE's jobs under this profile ...")
    .option('--new-profile <profile>', "... with NEW's jobs under this one, trace by trace (BASE and NEW may be one run)")
    .option('--costs <file>', 'cost table both sides\' counts are priced with for the estimate deltas (default: the shipped table from this machine kind)')
    .action(async (baseDir: string, newDir: string, opts: CompareCliOptions) => {
      const { compareCommand } = await import('../actions/report.js');
      process.exitCode = await compareCommand(baseDir, newDir, opts);
    });
}
