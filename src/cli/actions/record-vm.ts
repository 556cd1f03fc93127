// `s2bench record-vm [-o OUT] [--duration S] -- CMD ARGS...`: run a VMM under the recorder library and
// write its memory ioctls, first touches, dirty logs and exits as a trace (docs/record-vm.md).

import { Command } from 'commander';
import { recordVm } from '../../record-vm/session.js';
import { formatRecordedVmSummary, summarizeRecordedVm, SUMMARY_PROFILES } from '../../record-vm/summary.js';
import { readTrace } from '../../trace/io.js';
import { UsageError } from '../../errors.js';

interface RecordVmCliOptions {
  out: string;
  duration?: string;
}

export function registerRecordVmCommand(program: Command): void {
  program
    .command('record-vm')
    .description('run a VMM (e.g. qemu-system-x86_64) with the recorder preloaded and write its trace')
    .argument('[command...]', 'the VMM command line, after --')
    .option('-o, --out <path>', 'output trace (.csv or .s2t)', 'record-vm.csv')
    .option('--duration <s>', 'stop the VMM after this many seconds (SIGTERM); the trace is still complete')
    .action(async (command: string[], opts: RecordVmCliOptions) => {
      if (command.length === 0) throw new UsageError('record-vm needs the VMM command after --, e.g. s2bench record-vm -o vm.csv -- qemu-system-x86_64 ...');
      let durationS: number | undefined;
      if (opts.duration !== undefined) {
        durationS = Number(opts.duration);
        if (!/^[0-9]+(\.[0-9]+)?$/.test(opts.duration) || durationS <= 0) throw new UsageError(`--duration must be a number of seconds > 0, got '${opts.duration}'`);
      }
      const [cmd, ...args] = command;
      const result = await recordVm({ command: cmd!, args, out: opts.out, ...(durationS === undefined ? {} : { durationS }) });
      const c = result.counts;
      process.stdout.write(
        `recorded ${result.rows} rows in ${result.wallS.toFixed(1)} s -> ${opts.out}: ${c.memslotIoctls} memslot ioctls, ` +
          `${c.guestFaults} guest and ${c.hostFaults} host first touches, ${c.dirtyGets} dirty-log gets (${c.dirtyPages} pages), ` +
          `exits ${JSON.stringify(c.exits)}; VMM ${result.exit.signal ?? `exit ${result.exit.code}`}${result.stoppedByDuration ? ' (--duration)' : ''}\n`,
      );
    });
}

export function registerVmSummaryCommand(program: Command): void {
  program
    .command('vm-summary')
    .description('a recorded VM: first touches per vCPU and by the host, mapping levels per profile, dirty pages per interval')
    .argument('<trace>', 'a trace made by record-vm (.csv or .s2t)')
    .option('-p, --profile <profile...>', `profiles to replay under (default: ${SUMMARY_PROFILES.join('; ')})`)
    .option('--json', 'print JSON', false)
    .action(async (path: string, opts: { profile?: string[]; json: boolean }) => {
      const summary = summarizeRecordedVm(await readTrace(path), opts.profile ?? SUMMARY_PROFILES);
      process.stdout.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : formatRecordedVmSummary(path, summary));
    });
}
