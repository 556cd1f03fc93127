// `s2bench record` as the command line knows it: options and help. What it does is in
// ../actions/record.ts, imported when the command runs (the rule is in index.ts).

import type { Command } from 'commander';
import type { RecordCliOptions } from '../actions/record.js';

export function registerRecordCommand(program: Command): void {
  program
    .command('record')
    .description("perform a trace's ioctls and accesses on this machine's /dev/kvm and write it back with ret filled by Linux")
    .argument('[trace]', 'trace to record (csv or s2t)')
    .option('-o, --out <path>', 'output trace (or, with --fuzz, output directory)')
    .option('--fuzz <n>', 'record n random ioctl/access sequences instead of a trace')
    .option('--seed <s>', 'fuzz seed', '1')
    .option('--rows <r>', 'rows per fuzz sequence', '32')
    .option('--check', 'also replay each recorded trace on the model and report divergences (exit 1 on any)', false)
    .action(async (trace: string | undefined, opts: RecordCliOptions) => (await import('../actions/record.js')).recordAction(trace, opts));
}
