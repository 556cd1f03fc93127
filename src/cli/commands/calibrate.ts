// `s2bench calibrate` as the command line knows it: options and help. What it does is in
// ../actions/calibrate.ts, imported when the command runs (the rule is in index.ts).

import type { Command } from 'commander';
import type { CalibrateCliOptions } from '../actions/calibrate.js';

export function registerCalibrateCommand(program: Command): void {
  program
    .command('calibrate')
    .description("measure what faults, dirty logging, memslot updates and conversions cost on this machine's /dev/kvm; write a cost table")
    .option('-o, --out <file>', 'cost table to write', 'costs.json')
    .option('--quick', 'few repeats and small batches: seconds, for tests (figures are rougher)', false)
    .option('--repeats <n>', 'repeats per cost (a fresh VM each)')
    .option('--pages <n>', '4K pages per measured batch')
    .option('--huge <n>', '2M pages per THP batch')
    .option('--validate-pages <n>', 'pages of the recorded demand-paging run the table is checked against')
    .option('--check <costs>', 'measure nothing new: check an existing cost table against a fresh recorded demand-paging run')
    .option('--label <text>', "where the numbers come from, shown beside every estimate (default: this host's kernel and CPU)")
    .action(async (opts: CalibrateCliOptions) => (await import('../actions/calibrate.js')).calibrateAction(opts));
}
