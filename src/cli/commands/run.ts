// `s2bench run` as the command line knows it: options and help. What it does is in
// ../actions/run.ts, imported when the command runs (the rule is in index.ts).

import { availableParallelism } from 'node:os';
import { Option, type Command } from 'commander';
import { DEFAULT_MAX_EVENTS } from '../../trace/max-events.js';
import type { RunCliOptions } from '../actions/run.js';
import { COSTS_OPTION_HELP, MAX_MEMORY_HELP } from './option-help.js';

/** Ten minutes: the largest shipped trace replays in well under a second. */
const DEFAULT_JOB_TIMEOUT_S = 600;

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run a suite: every trace x profile x repeat on a worker pool; write results and report')
    .argument('[inputs...]', 'trace files or directories (searched recursively)', ['traces'])
    .option('-w, --workers <n>', 'worker threads (0 = run on the main thread)', String(availableParallelism()))
    // Five repeats: with three a side, a rank test can never reach p < 0.05, so compare could not
    // call any timing change significant.
    .option('-r, --repeat <k>', 'repeats of each trace x profile (timings get a median and spread)', '5')
    .addOption(
      new Option('-p, --profile <profile>', 'profile, e.g. x86-tdp,gmem-folio=1g (repeatable; default: the trace\'s own)')
        .argParser((value: string, previous: string[] = []) => [...previous, value])
        .default([]),
    )
    .option('-o, --out <dir>', 'output directory (default: reports/<run-id>)')
    .option('-f, --filter <glob>', 'only traces whose name or path matches')
    .option('--check', 'a divergence from a recorded ret or an expect row fails the job', false)
    .option('-q, --quiet', 'no progress bar', false)
    .option('--shard <i/n>', 'run only shard i of n of the suite (for CI runners)')
    .option('--baseline <dir>', 'a previous run to compare with, embedded in the report')
    .option('--micro', 'also run the core micro-benchmarks (after the suite, on the main thread)', false)
    .option('--max-events <n>', 'fail a trace with more events than this (replay holds a trace in memory)', String(DEFAULT_MAX_EVENTS))
    .option('--force', 'replace a non-empty output directory (or the leftovers of a run that did not finish)', false)
    .option('--max-memory <size>', MAX_MEMORY_HELP)
    .option('--job-timeout <seconds>', 'stop a job that runs longer and record it as failed (0 = no limit)', String(DEFAULT_JOB_TIMEOUT_S))
    .option('--costs <file>', COSTS_OPTION_HELP)
    .action(async (inputs: string[], opts: RunCliOptions) => {
      const { runCommand } = await import('../actions/run.js');
      process.exitCode = await runCommand(inputs, opts);
    });
}
