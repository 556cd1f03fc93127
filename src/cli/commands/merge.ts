// `s2bench merge` as the command line knows it: options and help. What it does is in
// ../actions/merge.ts, imported when the command runs (the rule is in index.ts).

import type { Command } from 'commander';

export function registerMergeCommand(program: Command): void {
  program
    .command('merge')
    .description('join result directories of `run --shard i/n` into one run (results, summary, report)')
    .argument('<dirs...>', 'results directories of the shards')
    .requiredOption('-o, --out <dir>', 'output directory')
    .option('--force', 'replace a non-empty output directory', false)
    .action(async (dirs: string[], opts: { out: string; force: boolean }) => (await import('../actions/merge.js')).mergeAction(dirs, opts));
}
