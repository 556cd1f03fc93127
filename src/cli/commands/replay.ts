// `s2bench replay` as the command line knows it: options and help. What it does is in
// ../actions/replay.ts, imported when the command runs (the rule is in index.ts).

import type { Command } from 'commander';
import { DEFAULT_MAX_EVENTS } from '../../trace/max-events.js';
import type { ReplayCliOptions } from '../actions/replay.js';
import { COSTS_OPTION_HELP, MAX_MEMORY_HELP } from './option-help.js';

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description("replay one trace through the model and print its modeled counters")
    .argument('<trace>', 'trace file (.csv or .s2t)')
    .option('-p, --profile <profile>', "profile, e.g. arm64-s2,split-chunk=2m or x86-tdp,eager-split=off (default: each of the trace's own, else x86-tdp)")
    .option('--check', 'list every divergence from recorded results and expect rows; exit 1 if any', false)
    .option('--json', 'print the result as JSON', false)
    .option('--max-events <n>', 'stop at a trace with more events than this (a bound on the work)', String(DEFAULT_MAX_EVENTS))
    .option('--max-memory <size>', MAX_MEMORY_HELP)
    .option('--costs <file>', COSTS_OPTION_HELP)
    .option(
      '-w, --workers <n>',
      "threads replaying the trace as shards by 1 GiB of guest memory, same counters (1 = this thread; auto: this machine's cores for an .s2t trace of 1M events or more, else 1)",
      'auto',
    )
    .action(async (trace: string, opts: ReplayCliOptions) => {
      const { replayCommand } = await import('../actions/replay.js');
      process.exitCode = await replayCommand(trace, opts, (text) => process.stdout.write(text));
    });
}
