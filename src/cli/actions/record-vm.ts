// `s2bench record-vm [-o OUT] [--duration S] -- CMD ARGS...`: run a VMM under the recorder library and
// write its memory ioctls, first touches, dirty logs and exits as a trace (docs/record-vm.md).

import { recordVm } from '../../record-vm/session.js';
import { formatRecordedVmSummary, summarizeRecordedVm } from '../../record-vm/summary.js';
import { SUMMARY_PROFILES } from '../../record-vm/summary-profiles.js';
import { readTrace } from '../../trace/io.js';
import { UsageError } from '../../errors.js';

export interface RecordVmCliOptions {
  out: string;
  duration?: string;
}

/** `record-vm`: runs the VMM under the recorder, writes its trace, prints what it recorded. */
export async function recordVmAction(command: string[], opts: RecordVmCliOptions): Promise<void> {
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
}

/** `vm-summary`: a recorded VM's first touches, mapping levels per profile and dirty pages. */
export async function vmSummaryAction(path: string, opts: { profile?: string[]; json: boolean }): Promise<void> {
  const summary = summarizeRecordedVm(await readTrace(path), opts.profile ?? SUMMARY_PROFILES);
  process.stdout.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : formatRecordedVmSummary(path, summary));
}
