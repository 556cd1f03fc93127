// `s2bench record-vm` and `vm-summary` as the command line knows them: options and help. What they do
// is in ../actions/record-vm.ts, imported when a command runs (the rule is in index.ts).

import type { Command } from 'commander';
import { SUMMARY_PROFILES } from '../../record-vm/summary-profiles.js';
import type { RecordVmCliOptions } from '../actions/record-vm.js';

export function registerRecordVmCommand(program: Command): void {
  program
    .command('record-vm')
    .description('run a VMM (e.g. qemu-system-x86_64) with the recorder preloaded and write its trace')
    .argument('[command...]', 'the VMM command line, after --')
    .option('-o, --out <path>', 'output trace (.csv or .s2t)', 'record-vm.csv')
    .option('--duration <s>', 'stop the VMM after this many seconds (SIGTERM); the trace is still complete')
    .action(async (command: string[], opts: RecordVmCliOptions) => (await import('../actions/record-vm.js')).recordVmAction(command, opts));
}

export function registerVmSummaryCommand(program: Command): void {
  program
    .command('vm-summary')
    .description('a recorded VM: first touches per vCPU and by the host, mapping levels per profile, dirty pages per interval')
    .argument('<trace>', 'a trace made by record-vm (.csv or .s2t)')
    .option('-p, --profile <profile...>', `profiles to replay under (default: ${SUMMARY_PROFILES.join('; ')})`)
    .option('--json', 'print JSON', false)
    .action(async (path: string, opts: { profile?: string[]; json: boolean }) => (await import('../actions/record-vm.js')).vmSummaryAction(path, opts));
}
