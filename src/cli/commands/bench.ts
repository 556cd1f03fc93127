// `s2bench bench` as the command line knows it: options and help. What it does is in
// ../actions/bench.ts, imported when the command runs (the rule is in index.ts).

import type { Command } from 'commander';
import { DEFAULT_PROFILE_NAME } from '../../core/profile.js';
import type { BenchCliOptions } from '../actions/bench.js';

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('micro-benchmarks of the core model (tinybench): lookup, hit, 4K and 2M faults, zap')
    .option('-p, --profile <profile>', 'profile to benchmark', DEFAULT_PROFILE_NAME)
    .option('-t, --time <ms>', 'time budget per case in milliseconds', '500')
    .option('-f, --filter <text>', 'only cases whose name contains this text')
    .option('-o, --out <dir>', 'output directory (default: reports/<run-id>)')
    .option('--json', 'print the figures as JSON', false)
    .action(async (opts: BenchCliOptions) => (await import('../actions/bench.js')).benchAction(opts));
}
