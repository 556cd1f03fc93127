// The text of `trace-cmd report` or `perf script` over KVM's tracepoints -> guest access rows.
//
// Line prefixes:
//   trace-cmd report: `qemu-system-x86-6288  [003]  1234.567890: kvm_page_fault:       vcpu 0 ...`
//                     (newer trace-cmd adds latency flags after the cpu: `[003] d..1.  1234.567890:`)
//   perf script:      `qemu-system-x86  6288 [003]  1234.567890: kvm:kvm_page_fault: vcpu 0 ...`
// Event texts, as the kernel's TP_printk formats them:
//   kvm:kvm_page_fault (arch/x86/kvm/trace.h)  `vcpu %u rip 0x%lx address 0x%016llx error_code 0x%llx`
//                                              (before 6.6: `address %lx error_code %llx`)
//   kvm:kvm_guest_fault (arch/arm64/kvm/trace_arm.h) `ipa %#llx, hsr %#08lx, hxfar %#08lx, pc %#016lx`
//                                              (later kernels: esr/far for hsr/hxfar)
//   kvm:kvm_mmio (include/trace/events/kvm.h)  `mmio %s len %u gpa 0x%llx val 0x%llx`
//   kvm:kvm_userspace_exit (same)              `reason %s (%d)` (`restart`/`error` for -errno)
//   kvmmmu:kvm_mmu_spte_requested (arch/x86/kvm/mmu/mmutrace.h) `gfn %llx pfn %llx level %d`
//   kvmmmu:kvm_mmu_set_spte (same)             `gfn %llx spte %llx (%s%s%s%s) level %d at %llx`
// A fault becomes one 4 KiB access of the faulting page; an MMIO or exit event that follows it on the
// same thread becomes that access's expected outcome (`ret`).

import type { TraceRow } from '../row.js';
import { splitLines, type ImportedRow, type ImportStats, type ImportWarning, type LineImporter } from './result.js';

export type TraceArch = 'x86_64' | 'arm64';

export interface TracecmdImport {
  rows: ImportedRow[];
  warnings: ImportWarning[];
  arch: TraceArch | undefined;
  stats: ImportStats & {
    /** Events by name (all of them, imported or not). */
    events: Record<string, number>;
    /** Leaf SPTEs KVM installed, by level (1 = 4K, 2 = 2M, 3 = 1G), from kvm_mmu_set_spte. */
    setSpteLevels: Record<string, number>;
    /** Levels KVM aimed for, from kvm_mmu_spte_requested. */
    requestedLevels: Record<string, number>;
    /** How kvm_page_fault error codes were read. */
    vendor: 'intel' | 'amd' | 'unknown';
    /** The most rows held at once before being handed to onRow (streaming only). */
    heldMax: number;
  };
}

export interface TracecmdOptions {
  /** End the trace with `expect leaves.4k/2m/1g` rows counting kvm_mmu_set_spte events by level. */
  expectLevels?: boolean;
  /**
   * What kvm_page_fault's error_code is: AMD's NPF error code (PFERR_* bits) or, on Intel, the EPT
   * violation exit qualification that vmx's handle_ept_violation traces instead. `auto` (default)
   * looks for kvm_exit reasons EPT_VIOLATION (Intel) or npf (AMD) and assumes PFERR bits otherwise.
   */
  vendor?: 'auto' | 'intel' | 'amd';
  /**
   * Streaming: each row goes here, in recording order, as soon as nothing later can change it (its
   * outcome is known, or its thread has moved on to another access), instead of into `rows`. What is
   * held is the rows behind the oldest access still waiting for its outcome (stats.heldMax).
   */
  onRow?: (row: ImportedRow) => void;
}

// perf script prints `pid/tid` with -F pid,tid; the thread is what identifies a vCPU.
const LINE =
  /^\s*(.*?)[-\s](\d+(?:\/\d+)?)\s+(?:\(\s*\d+\)\s+)?\[(\d+)\]\s+(?:[^\s:]+\s+)?(\d+\.\d+):\s+(?:([a-z0-9_]+):)?([a-z0-9_]+):\s*(.*)$/i;

// x86 page-fault error code bits (arch/x86/include/asm/kvm_host.h).
const PFERR_WRITE_MASK = 1n << 1n;
const PFERR_FETCH_MASK = 1n << 4n;
const PFERR_PRIVATE_ACCESS = 1n << 49n;
// EPT violation exit qualification (arch/x86/include/asm/vmx.h).
const EPT_VIOLATION_ACC_WRITE = 1n << 1n;
const EPT_VIOLATION_ACC_INSTR = 1n << 2n;

// arm64 ESR_ELx (arch/arm64/include/asm/esr.h).
const ESR_ELx_EC_SHIFT = 26n;
const ESR_ELx_EC_IABT_LOW = 0x20n;
const ESR_ELx_EC_DABT_LOW = 0x24n;
const ESR_ELx_WNR = 1n << 6n;
const ESR_ELx_S1PTW = 1n << 7n;
const ESR_ELx_ISV = 1n << 24n;

/** KVM_EXIT_MMIO and KVM_EXIT_MEMORY_FAULT (include/uapi/linux/kvm.h). */
const KVM_EXIT_MMIO = 6;
const KVM_EXIT_MEMORY_FAULT = 39;
const ENOSYS = 38;

const PAGE_MASK = ~0xfffn;

/** trace-cmd report's header lines and comments. */
const NOT_AN_EVENT = /^\s*(cpus=|version\s*=|CPU \d+ is empty|#)/;
const PAGE_FAULT_BODY = /^(?:vcpu (\d+) rip 0x[0-9a-f]+ )?address (?:0x)?([0-9a-f]+) error_code (?:0x)?([0-9a-f]+)\s*$/i;
const GUEST_FAULT_BODY = /^ipa (0x[0-9a-f]+|0), (?:hsr|esr) (0x[0-9a-f]+|0), (?:hxfar|far) (0x[0-9a-f]+|0), pc (0x[0-9a-f]+|0)\s*$/i;

/**
 * The architecture a recording's line decides, if it is the first to (the importer takes the first
 * well-formed fault event's): for a streaming import, which must name the arch before any row.
 */
export function lineArch(raw: string): TraceArch | undefined {
  const m = NOT_AN_EVENT.test(raw) ? null : LINE.exec(raw);
  if (!m) return undefined;
  if (m[6] === 'kvm_page_fault' && PAGE_FAULT_BODY.test(m[7]!)) return 'x86_64';
  if (m[6] === 'kvm_guest_fault' && GUEST_FAULT_BODY.test(m[7]!)) return 'arm64';
  return undefined;
}

function hex(text: string): bigint {
  return BigInt(text.startsWith('0x') || text.startsWith('0X') ? text : `0x${text}`);
}

/** A whole recording in memory (tests, small files). */
export function importTracecmd(text: string, options: TracecmdOptions = {}): TracecmdImport {
  const importer = createTracecmdImporter(options);
  for (const line of splitLines(text)) importer.feed(line);
  return importer.finish();
}

export function createTracecmdImporter(options: TracecmdOptions = {}): LineImporter<TracecmdImport> {
  const result: TracecmdImport = {
    rows: [],
    warnings: [],
    arch: undefined,
    stats: { lines: 0, rows: 0, skipped: 0, bad: 0, events: {}, setSpteLevels: {}, requestedLevels: {}, vendor: 'unknown', heldMax: 0 },
  };
  const vendor = options.vendor ?? 'auto';
  if (vendor !== 'auto') result.stats.vendor = vendor;
  // Decided by the first kvm_exit naming an EPT violation or an NPF (each precedes its fault).
  let intel = vendor === 'intel';
  const stats = result.stats;
  const vcpuByPid = new Map<number, number>();
  // The last access of each thread still waiting for its outcome.
  const open = new Map<number, ImportedRow>();
  const waiting = new Set<ImportedRow>(); // open's values
  const setOpen = (pid: number, row: ImportedRow | undefined): void => {
    const before = open.get(pid);
    if (before !== undefined) waiting.delete(before);
    if (row === undefined) open.delete(pid);
    else {
      open.set(pid, row);
      waiting.add(row);
    }
  };
  // Streaming: rows not yet handed on, in order, from `head`; the first still waiting stops the flow.
  const held: ImportedRow[] = [];
  let head = 0;
  const emit = (row: ImportedRow): void => {
    if (options.onRow === undefined) result.rows.push(row);
    else {
      held.push(row);
      if (held.length - head > stats.heldMax) stats.heldMax = held.length - head;
    }
  };
  const flush = (all: boolean): void => {
    if (options.onRow === undefined) return;
    while (head < held.length && (all || !waiting.has(held[head]!))) options.onRow(held[head++]!);
    if (head > 4096 && head * 2 > held.length) {
      held.splice(0, head);
      head = 0;
    }
  };
  // A userspace MMIO read is traced twice: `unsatisfied-read` at the exit, `read` when it completes.
  const unsatisfied = new Map<number, bigint>();
  let lastTime: number | undefined;

  const warn = (line: number, message: string): void => {
    result.warnings.push({ line, message });
    stats.bad++;
  };
  const setArch = (arch: TraceArch, line: number): boolean => {
    if (result.arch !== undefined && result.arch !== arch) {
      warn(line, `${arch} event in a ${result.arch} recording`);
      return false;
    }
    result.arch = arch;
    return true;
  };
  const access = (pid: number, vcpu: number | undefined, row: Omit<TraceRow, 'vcpu'>, line: number, time: number): void => {
    // Old formats (and arm64, and kvm_mmio) do not name the vCPU: each vCPU is its own thread, so a
    // thread takes the id a kvm_page_fault named for it, or the next number in order of appearance.
    if (vcpu === undefined) vcpu = vcpuByPid.get(pid) ?? vcpuByPid.size;
    vcpuByPid.set(pid, vcpu);
    const imported: ImportedRow = { row: { ...row, vcpu } as TraceRow, line, time };
    emit(imported);
    setOpen(pid, imported);
    stats.rows++;
  };
  const outcome = (pid: number, ret: 'mmio' | 'memfault' | 'enosys', gpa: bigint | undefined): boolean => {
    const row = open.get(pid);
    if (!row) return false;
    if (gpa !== undefined && ((row.row.gpa ?? -1n) & PAGE_MASK) !== (gpa & PAGE_MASK)) return false;
    row.row.ret = ret;
    setOpen(pid, undefined);
    return true;
  };

  const feed = (raw: string): void => {
    feedLine(raw);
    flush(false);
  };
  const feedLine = (raw: string): void => {
    const lineNo = ++stats.lines;
    if (raw.trim() === '' || NOT_AN_EVENT.test(raw)) {
      stats.skipped++;
      return;
    }
    const m = LINE.exec(raw);
    if (!m) {
      warn(lineNo, `not a trace-cmd report / perf script event line`);
      return;
    }
    const pid = Number(m[2]!.split('/').pop());
    const time = Number(m[4]);
    const event = m[6]!;
    const body = m[7]!;
    lastTime = time;
    stats.events[event] = (stats.events[event] ?? 0) + 1;
    switch (event) {
      case 'kvm_page_fault': {
        const f = PAGE_FAULT_BODY.exec(body);
        if (!f) {
          warn(lineNo, `kvm_page_fault: unexpected text '${body}'`);
          return;
        }
        if (!setArch('x86_64', lineNo)) return;
        const gpa = hex(f[2]!);
        const code = hex(f[3]!);
        const fetch = intel ? EPT_VIOLATION_ACC_INSTR : PFERR_FETCH_MASK;
        const write = intel ? EPT_VIOLATION_ACC_WRITE : PFERR_WRITE_MASK;
        const op = (code & fetch) !== 0n ? 'exec' : (code & write) !== 0n ? 'write' : 'read';
        const row: Omit<TraceRow, 'vcpu'> = { op, gpa: gpa & PAGE_MASK, size: 4096n };
        if (!intel && (code & PFERR_PRIVATE_ACCESS) !== 0n) row.flags = 'private';
        access(pid, f[1] === undefined ? undefined : Number(f[1]), row, lineNo, time);
        return;
      }
      case 'kvm_guest_fault': {
        const f = GUEST_FAULT_BODY.exec(body);
        if (!f) {
          warn(lineNo, `kvm_guest_fault: unexpected text '${body}'`);
          return;
        }
        if (!setArch('arm64', lineNo)) return;
        const ipa = BigInt(f[1]!);
        const esr = BigInt(f[2]!);
        const ec = (esr >> ESR_ELx_EC_SHIFT) & 0x3fn;
        if (ec !== ESR_ELx_EC_IABT_LOW && ec !== ESR_ELx_EC_DABT_LOW) {
          warn(lineNo, `kvm_guest_fault: ESR class 0x${ec.toString(16)} is neither a data nor an instruction abort`);
          return;
        }
        const exec = ec === ESR_ELx_EC_IABT_LOW;
        const flags: string[] = [];
        if (!exec && (esr & ESR_ELx_ISV) === 0n) flags.push('nisv');
        if ((esr & ESR_ELx_S1PTW) !== 0n) flags.push('s1ptw');
        const op = exec ? 'exec' : (esr & ESR_ELx_WNR) !== 0n ? 'write' : 'read';
        const row: Omit<TraceRow, 'vcpu'> = { op, gpa: ipa & PAGE_MASK, size: 4096n };
        if (flags.length > 0) row.flags = flags.join('|');
        access(pid, undefined, row, lineNo, time);
        return;
      }
      case 'kvm_mmio': {
        const f = /^mmio (unsatisfied-read|read|write|0x[0-9a-f]+) len (\d+) gpa 0x([0-9a-f]+) val 0x([0-9a-f]+)\s*$/i.exec(body);
        if (!f) {
          warn(lineNo, `kvm_mmio: unexpected text '${body}'`);
          return;
        }
        const type = f[1]!;
        const gpa = hex(f[3]!);
        if (type === 'read' && unsatisfied.get(pid) === gpa) {
          unsatisfied.delete(pid);
          stats.skipped++;
          return;
        }
        if (type === 'unsatisfied-read') unsatisfied.set(pid, gpa);
        if (outcome(pid, 'mmio', gpa)) return;
        if (type === 'unsatisfied-read' || type === 'read' || type === 'write') {
          // No fault before it: KVM had cached an MMIO SPTE (Intel: EPT misconfig, not traced as a
          // page fault), so the MMIO event is the only trace of this access.
          access(pid, undefined, { op: type === 'write' ? 'write' : 'read', gpa: gpa & PAGE_MASK, size: 4096n, ret: 'mmio' }, lineNo, time);
          setOpen(pid, undefined);
        } else stats.skipped++;
        return;
      }
      case 'kvm_userspace_exit': {
        const f = /^reason (\S+) \((-?\d+)\)\s*$/.exec(body);
        if (!f) {
          warn(lineNo, `kvm_userspace_exit: unexpected text '${body}'`);
          return;
        }
        const name = f[1]!;
        const n = Number(f[2]);
        let ret: 'mmio' | 'memfault' | 'enosys' | undefined;
        if (name === 'error' && n === ENOSYS) ret = 'enosys';
        else if (name !== 'error' && name !== 'restart') {
          if (n === KVM_EXIT_MMIO) ret = 'mmio';
          else if (n === KVM_EXIT_MEMORY_FAULT) ret = 'memfault';
        }
        if (ret === undefined || !outcome(pid, ret, undefined)) stats.skipped++;
        return;
      }
      case 'kvm_exit': {
        if (vendor === 'auto' && stats.vendor === 'unknown') {
          if (/\breason EPT_VIOLATION\b/.test(body)) stats.vendor = 'intel';
          else if (/\breason npf\b/.test(body)) stats.vendor = 'amd';
          intel = stats.vendor === 'intel';
        }
        stats.skipped++;
        return;
      }
      case 'kvm_mmu_spte_requested': {
        const f = /^gfn ([0-9a-f]+) pfn ([0-9a-f]+) level (\d+)\s*$/i.exec(body);
        if (!f) warn(lineNo, `kvm_mmu_spte_requested: unexpected text '${body}'`);
        else {
          stats.requestedLevels[f[3]!] = (stats.requestedLevels[f[3]!] ?? 0) + 1;
          stats.skipped++;
        }
        return;
      }
      case 'kvm_mmu_set_spte': {
        const f = /^gfn ([0-9a-f]+) spte ([0-9a-f]+) \(([-rwxu]*)\) level (\d+) at ([0-9a-f]+)\s*$/i.exec(body);
        if (!f) warn(lineNo, `kvm_mmu_set_spte: unexpected text '${body}'`);
        else {
          stats.setSpteLevels[f[4]!] = (stats.setSpteLevels[f[4]!] ?? 0) + 1;
          stats.skipped++;
        }
        return;
      }
      default:
        stats.skipped++;
    }
  };

  const finish = (): TracecmdImport => {
    flush(true);
    if (options.expectLevels) {
      // kvm_mmu_set_spte fires once per leaf installed: the model's cumulative leaves.* counters.
      for (const [level, metric] of [['1', 'leaves.4k'], ['2', 'leaves.2m'], ['3', 'leaves.1g']] as const) {
        const row: ImportedRow = { row: { op: 'expect', flags: metric, ret: stats.setSpteLevels[level] ?? 0 }, line: stats.lines };
        if (lastTime !== undefined) row.time = lastTime;
        emit(row);
        stats.rows++;
      }
    }
    flush(true);
    return result;
  };
  return { feed, finish };
}
