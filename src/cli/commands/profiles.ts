// `s2bench profiles` as the command line knows it: options and help. What it does is in
// ../actions/profiles.ts, imported when the command runs (the rule is in index.ts).

import type { Command } from 'commander';

export function registerProfilesCommand(program: Command): void {
  program
    .command('profiles')
    .description('list every profile, kernel version and knob; with --diff A B, the kernel rules two profiles differ in')
    .option('--diff <profiles...>', 'two profiles to compare, e.g. --diff x86-tdp@6.12 x86-tdp@6.18')
    .action(async (opts: { diff?: string[] }) => (await import('../actions/profiles.js')).profilesAction(opts));
}
