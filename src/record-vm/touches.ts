// What a recorded VM's trace says by itself, whatever the profile: the pages each vCPU and the host
// touched first, the MMIO exits, and the pages each dirty-log get reported (docs/record-vm.md,
// "Summary"). `vm-summary` prints it; a run adds it to each recorded trace's results as `vm.*` metrics
// (docs/metrics.md, "Recorded VMs"), so report.html can show it for a run read back from disk.

import { OPS, OP, F_RET, F_VCPU, type TraceChunk, type TraceMeta } from '../trace/schema.js';
import { has } from '../trace/columns.js';
import { openTrace, type LoadedTrace } from '../trace/io.js';
import { rowAt } from '../trace/row.js';
import { OUTCOME_MMIO, OUTCOME_OK } from '../core/outcome.js';

export interface TouchCounts {
  read: number;
  write: number;
}

export interface RecordedTouches {
  /** First touches (`ok` accesses with a vCPU), by vCPU number. */
  vcpus: Record<string, TouchCounts>;
  /** First touches by the VMM's own threads (host_read / host_write rows, 4 KiB each). */
  host: TouchCounts;
  /** MMIO exits, by vCPU. */
  mmio: Record<string, number>;
  /** Each dirty_get in order: its slot and the pages the kernel reported for the interval that ended there. */
  dirtyIntervals: Array<{ slot: number; pages: number | string }>;
}

/** A trace written by `s2bench record-vm` (its `# source:` says so): every guest access row is a first touch. */
export function isRecordedVm(meta: TraceMeta): boolean {
  return (meta.fields['source'] ?? '').startsWith('s2bench record-vm');
}

export function emptyTouches(): RecordedTouches {
  return { vcpus: {}, host: { read: 0, write: 0 }, mmio: {}, dirtyIntervals: [] };
}

/** Adds one chunk's rows to `t`. Only access, host and dirty_get rows are decoded. */
export function addTouches(t: RecordedTouches, chunk: TraceChunk): void {
  for (let i = 0; i < chunk.length; i++) {
    const op = chunk.op[i]!;
    if (op === OP.host_read || op === OP.host_write) t.host[op === OP.host_read ? 'read' : 'write']++;
    else if (op === OP.dirty_get) {
      const row = rowAt(chunk, i);
      t.dirtyIntervals.push({ slot: row.slot!, pages: row.ret ?? '' });
    } else if ((op === OP.read || op === OP.write) && has(chunk, i, F_VCPU) && has(chunk, i, F_RET)) {
      // Dirty-log pages carry no vCPU: they are counted in their interval, not here.
      const v = String(chunk.vcpu[i]);
      if (chunk.ret[i] === OUTCOME_MMIO) t.mmio[v] = (t.mmio[v] ?? 0) + 1;
      else if (chunk.ret[i] === OUTCOME_OK) (t.vcpus[v] ??= { read: 0, write: 0 })[OPS[op] as 'read' | 'write']++;
    }
  }
}

export async function countTouches(chunks: Iterable<TraceChunk> | AsyncIterable<TraceChunk>): Promise<RecordedTouches> {
  const t = emptyTouches();
  for await (const chunk of chunks) addTouches(t, chunk);
  return t;
}

/** The prefix of the `vm.*` result metrics. */
export const VM_METRIC_PREFIX = 'vm.';

/**
 * The touches as result metrics: `vm.touch.vcpu<N>.read|write`, `vm.touch.host.read|write`,
 * `vm.mmio.vcpu<N>`, `vm.dirty_gets` and `vm.dirty_pages` (the kernel's popcounts summed).
 */
export function touchMetrics(t: RecordedTouches): Record<string, number> {
  const m: Record<string, number> = {};
  for (const [v, c] of Object.entries(t.vcpus)) {
    m[`vm.touch.vcpu${v}.read`] = c.read;
    m[`vm.touch.vcpu${v}.write`] = c.write;
  }
  m['vm.touch.host.read'] = t.host.read;
  m['vm.touch.host.write'] = t.host.write;
  for (const [v, n] of Object.entries(t.mmio)) m[`vm.mmio.vcpu${v}`] = n;
  m['vm.dirty_gets'] = t.dirtyIntervals.length;
  m['vm.dirty_pages'] = t.dirtyIntervals.reduce((n, d) => n + (typeof d.pages === 'number' ? d.pages : 0), 0);
  return m;
}

/** `vm.*` metrics back into touches by vCPU (the report's view of a run read from disk). */
export function touchesOfMetrics(m: Readonly<Record<string, number>>): { vcpus: Record<string, TouchCounts>; host: TouchCounts; mmio: Record<string, number> } {
  const vcpus: Record<string, TouchCounts> = {};
  const mmio: Record<string, number> = {};
  for (const [name, value] of Object.entries(m)) {
    const touch = /^vm\.touch\.vcpu(\d+)\.(read|write)$/.exec(name);
    if (touch) (vcpus[touch[1]!] ??= { read: 0, write: 0 })[touch[2] as 'read' | 'write'] = value;
    const exit = /^vm\.mmio\.vcpu(\d+)$/.exec(name);
    if (exit) mmio[exit[1]!] = value;
  }
  return { vcpus, host: { read: m['vm.touch.host.read'] ?? 0, write: m['vm.touch.host.write'] ?? 0 }, mmio };
}

/** A loaded trace's metrics, once per trace object (a worker replays a kept trace once per repeat). */
const metricsOfLoaded = new WeakMap<LoadedTrace, Record<string, number>>();

/**
 * The `vm.*` metrics of a trace (loaded, or a file read as a stream), or none when record-vm did not
 * write it. Counted from the rows, outside the model: no replay, so sharded and whole replays agree.
 */
export async function recordedVmMetrics(trace: LoadedTrace | string): Promise<Record<string, number>> {
  if (typeof trace !== 'string') {
    if (!isRecordedVm(trace.meta)) return {};
    let m = metricsOfLoaded.get(trace);
    if (m === undefined) metricsOfLoaded.set(trace, (m = touchMetrics(await countTouches(trace.chunks))));
    return m;
  }
  const open = await openTrace(trace);
  try {
    return isRecordedVm(open.meta) ? touchMetrics(await countTouches(open.chunks())) : {};
  } finally {
    await open.close();
  }
}
