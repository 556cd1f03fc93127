// Records of the VMM recorder -> trace rows, one record at a time (bounded memory: the state is the
// slot table, the open guest_memfds and a few counters). Mapping and its limits: docs/record-vm.md.

import {
  errnoName,
  KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
  KVM_DIRTY_LOG_INITIALLY_SET,
  KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE,
  KVM_MEM_GUEST_MEMFD,
  KVM_MEM_LOG_DIRTY_PAGES,
  KVM_MEM_READONLY,
  PAGE_SIZE,
} from '../core/abi.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from '../core/gmem.js';
import type { TraceRow } from '../trace/row.js';
import { KnownDirty, type Run } from './known-dirty.js';
import type { VmRecord } from './records.js';

const PAGE = BigInt(PAGE_SIZE);
const KVM_MEMORY_EXIT_FLAG_PRIVATE = 8n;
const ATTRS: ReadonlyArray<readonly [string, bigint]> = [['private', 8n]];
// include/uapi/linux/kvm.h exit reasons the library reports.
const KVM_EXIT_MMIO = 6;
const KVM_EXIT_INTERNAL_ERROR = 17;
const KVM_EXIT_MEMORY_FAULT = 39;
/** The library's fd kinds (enum fd_kind in vmrec.c). */
const FD_GMEM = 3;

interface Slot {
  gpa: bigint;
  size: bigint;
  hva: bigint;
  logging: boolean;
}

/** What the recording saw, for the metadata and the closing summary. */
export interface RecordCounts {
  memslotIoctls: number;
  vcpus: number;
  guestFaults: number;
  hostFaults: number;
  dirtyGets: number;
  dirtyPages: number;
  exits: Record<string, number>;
  /** Records of a second VM (fd other than the first KVM_CREATE_VM's): not in the trace. */
  otherVmRecords: number;
  /** From the library's last record: faults it read and resolved. */
  libraryFaults?: number;
  libraryResolved?: number;
}

export interface ConvertOptions {
  /** `backing` rows for a host range a new slot maps (read from /proc/PID/smaps); none if omitted. */
  backing?: (hva: bigint, size: bigint) => TraceRow[];
}

export class VmRecordConverter {
  readonly counts: RecordCounts = {
    memslotIoctls: 0,
    vcpus: 0,
    guestFaults: 0,
    hostFaults: 0,
    dirtyGets: 0,
    dirtyPages: 0,
    exits: {},
    otherVmRecords: 0,
  };
  /** Free-text notes for the metadata (userfaultfd status, ranges not registered, ...). */
  readonly notes: string[] = [];
  /** `# ...` lines to place among the rows (after `row` rows): events with no row, e.g. an internal error. */
  readonly comments: Array<{ row: number; text: string }> = [];
  pid: number | undefined;
  uffd: string | undefined;
  private vmFd: number | undefined;
  private readonly slots = new Map<number, Slot>();
  private readonly gmemFds = new Set<number>();
  private readonly backed = new Set<string>();
  /** The dirty-log record being read: its row (undefined for another VM's) waits for its page runs. */
  private dirty: { gpa: bigint | undefined; row: TraceRow | undefined; clear: boolean; slot: number; first: bigint; runs: Run[] } | undefined;
  /** args[0] of the last successful KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 enable (kvm->manual_dirty_log_protect). */
  private manualCaps = 0n;
  private readonly known = new KnownDirty();
  private rows = 0;

  constructor(
    /** Receives each row in trace order. */
    private readonly sink: (row: TraceRow) => void,
    private readonly options: ConvertOptions = {},
  ) {}

  private emit(row: TraceRow): void {
    this.rows++;
    this.sink(row);
  }

  private comment(text: string): void {
    this.comments.push({ row: this.rows, text: `# record-vm: ${text}` });
  }

  feed(r: VmRecord): void {
    switch (r.kind) {
      case 'init':
        this.pid = r.pid;
        return;
      case 'vm':
        if (r.ret >= 0 && this.vmFd === undefined) this.vmFd = r.ret;
        return;
      case 'vcpu':
        if (this.ours(r.vmFd) && r.ret >= 0) this.counts.vcpus++;
        return;
      case 'memslot':
        if (this.ours(r.vmFd)) this.memslot(r);
        return;
      case 'gmem_create':
        if (!this.ours(r.vmFd)) return;
        if (r.ret >= 0) this.gmemFds.add(r.ret);
        // On failure there is no file; fd 0 (never a guest_memfd) stands in, as in the strace importer.
        this.emit({ op: 'gmem_create', size: r.size, flags: flagsCell(r.flags, GMEM_FLAGS), fd: r.ret >= 0 ? r.ret : 0, ret: r.ret >= 0 ? 0 : retCell(r.ret) });
        return;
      case 'attrs':
        if (!this.ours(r.vmFd)) return;
        this.emit({
          op: 'attrs',
          gpa: r.gpa,
          size: r.size,
          attrs: flagsCell(r.attrs, ATTRS),
          flags: flagsCell(r.flags, []),
          ret: retCell(r.ret),
        });
        return;
      case 'fallocate':
        this.fallocate(r);
        return;
      case 'close':
        if (r.fdKind === FD_GMEM && this.gmemFds.has(r.fd)) {
          if (r.ret === 0) this.gmemFds.delete(r.fd);
          this.emit({ op: 'gmem_close', fd: r.fd, ret: retCell(r.ret) });
        }
        return;
      case 'enable_cap':
        if (this.ours(r.vmFd)) this.enableCap(r);
        return;
      case 'dirty':
        this.dirtyStart(r);
        return;
      case 'dirty_runs':
        this.dirtyRuns(r.runs);
        return;
      case 'dirty_end':
        this.dirtyEnd();
        return;
      case 'exit':
        this.exit(r);
        return;
      case 'fault':
        this.fault(r);
        return;
      case 'uffd':
        this.uffd = r.status;
        return;
      case 'register':
        if (r.status !== 'ok') this.notes.push(`host range 0x${r.hva.toString(16)}+0x${r.size.toString(16)} not registered with userfaultfd: ${r.status}`);
        return;
      case 'end':
        this.counts.libraryFaults = r.faults;
        this.counts.libraryResolved = r.resolved;
        return;
    }
  }

  /** The record stream ended: a dirty record cut short (the VMM was killed mid-write) is completed. */
  finish(): void {
    if (this.dirty !== undefined) this.dirtyEnd();
  }

  private ours(vmFd: number): boolean {
    if (vmFd === this.vmFd) return true;
    this.counts.otherVmRecords++;
    return false;
  }

  private memslot(r: Extract<VmRecord, { kind: 'memslot' }>): void {
    this.counts.memslotIoctls++;
    const gmem = (r.flags & KVM_MEM_GUEST_MEMFD) !== 0;
    if (r.ret === 0 && r.size > 0n && !gmem && this.options.backing) {
      // One set of backing rows per host range: a slot re-created over the same memory adds none.
      const key = `${r.hva}+${r.size}`;
      if (!this.backed.has(key)) {
        this.backed.add(key);
        for (const row of this.options.backing(r.hva, r.size)) this.emit(row);
      }
    }
    const row: TraceRow = { op: 'memslot', slot: r.slot, flags: flagsCell(r.flags, MEMSLOT_FLAGS), gpa: r.gpa, size: r.size, hva: r.hva, ret: retCell(r.ret) };
    // The kernel reads guest_memfd and its offset only from REGION2 with KVM_MEM_GUEST_MEMFD.
    if (r.version === 2 && gmem) {
      row.fd = r.gmemFd;
      row.offset = r.gmemOffset;
    }
    this.emit(row);
    if (r.ret !== 0) return;
    const logging = r.size > 0n && (r.flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0;
    const wasLogging = this.slots.get(r.slot)?.logging ?? false;
    if (!logging) this.known.stop(r.slot);
    else if (!wasLogging) this.known.start(r.slot, r.size / PAGE, (this.manualCaps & KVM_DIRTY_LOG_INITIALLY_SET) !== 0n);
    if (r.size === 0n) this.slots.delete(r.slot);
    else this.slots.set(r.slot, { gpa: r.gpa, size: r.size, hva: r.hva, logging });
  }

  private fallocate(r: Extract<VmRecord, { kind: 'fallocate' }>): void {
    if (!this.gmemFds.has(r.fd)) return;
    // kvm_gmem_fallocate() takes KEEP_SIZE alone (allocate) or with PUNCH_HOLE.
    const op = r.mode === (FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE) ? 'gmem_punch' : r.mode === FALLOC_FL_KEEP_SIZE ? 'gmem_alloc' : undefined;
    if (op === undefined) {
      this.comment(`fallocate mode 0x${r.mode.toString(16)} on guest_memfd ${r.fd} (ret ${r.ret}) has no trace op`);
      return;
    }
    this.emit({ op, fd: r.fd, offset: r.offset, size: r.len, ret: retCell(r.ret) });
  }

  /** The capability the model knows (manual dirty-log protect); others change nothing it models. */
  private enableCap(r: Extract<VmRecord, { kind: 'enable_cap' }>): void {
    if (r.cap !== KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) return;
    if (r.ret === 0) this.manualCaps = r.arg0;
    // `attrs` carries the struct's own flags, which must be 0: written only when they are not.
    const row: TraceRow = { op: 'enable_cap', slot: r.cap, flags: flagsCell(r.arg0, MANUAL_PROTECT_FLAGS), ret: retCell(r.ret) };
    if (r.flags !== 0) row.attrs = BigInt(r.flags);
    this.emit(row);
  }

  private dirtyStart(r: Extract<VmRecord, { kind: 'dirty' }>): void {
    if (this.dirty !== undefined) this.dirtyEnd();
    if (!this.ours(r.vmFd)) {
      this.dirty = { gpa: undefined, row: undefined, clear: r.clear, slot: r.slot, first: 0n, runs: [] };
      return;
    }
    // A clear's row comes after the runs of its bitmap (`bits` rows) and clears only those.
    const row: TraceRow = r.clear
      ? { op: 'dirty_clear', slot: r.slot, flags: 'masked', offset: r.first, size: r.npages, ret: retCell(r.ret) }
      : { op: 'dirty_get', slot: r.slot, ret: r.ret < 0 ? retCell(r.ret) : r.popcount };
    this.dirty = { gpa: this.slots.get(r.slot)?.gpa, row, clear: r.clear, slot: r.slot, first: r.first, runs: [] };
    if (!r.clear) {
      this.counts.dirtyGets++;
      this.counts.dirtyPages += r.ret < 0 ? 0 : r.popcount;
    }
  }

  private dirtyRuns(runs: ReadonlyArray<readonly [bigint, bigint]>): void {
    const d = this.dirty;
    if (d === undefined || d.row === undefined) return;
    if (d.clear) {
      // The bits the VMM asks to clear, as slot pages (the bitmap starts at first_page).
      for (const [start, len] of runs) {
        this.emit({ op: 'dirty_clear', slot: d.slot, flags: 'bits', offset: d.first + start, size: len });
        d.runs.push([d.first + start, d.first + start + len]);
      }
      return;
    }
    // A get's runs are held to its end: which of them are writes depends on what was known set.
    for (const [start, len] of runs) d.runs.push([start, start + len]);
  }

  private dirtyEnd(): void {
    const d = this.dirty;
    this.dirty = undefined;
    if (d?.row === undefined) return;
    const ok = d.row.ret === 0 || (!d.clear && typeof d.row.ret === 'number' && d.row.ret >= 0);
    if (d.clear) {
      if (ok) this.known.clear(d.slot, d.runs);
    } else if (ok) {
      // The pages written since the last get, in gfn order; which vCPU wrote them is not known.
      const clears = (this.manualCaps & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE) === 0n;
      const writes = this.known.get(d.slot, d.runs, clears);
      if (d.gpa !== undefined) for (const [start, end] of writes) this.emit({ op: 'write', gpa: d.gpa + start * PAGE, size: (end - start) * PAGE, ret: 'ok' });
    }
    this.emit(d.row);
  }

  private exit(r: Extract<VmRecord, { kind: 'exit' }>): void {
    const name = r.reason === KVM_EXIT_MMIO ? 'mmio' : r.reason === KVM_EXIT_MEMORY_FAULT ? 'memfault' : r.reason === KVM_EXIT_INTERNAL_ERROR ? 'internal' : `exit_${r.reason}`;
    this.counts.exits[name] = (this.counts.exits[name] ?? 0) + 1;
    if (r.reason === KVM_EXIT_MMIO) {
      // a = phys_addr, b = len, c = is_write.
      this.emit({ op: r.c !== 0n ? 'write' : 'read', vcpu: r.vcpu, gpa: r.a, ret: 'mmio' });
    } else if (r.reason === KVM_EXIT_MEMORY_FAULT) {
      // a = gpa, b = size, c = flags. The exit does not say read or write: recorded as a read.
      const priv = (r.c & KVM_MEMORY_EXIT_FLAG_PRIVATE) !== 0n;
      this.emit({ op: 'read', vcpu: r.vcpu, gpa: r.a, ...(priv ? { flags: 'private' } : {}), ret: 'memfault' });
    } else {
      this.comment(`vCPU ${r.vcpu} ${name} exit (suberror ${r.a}): no gpa, no row`);
    }
  }

  private fault(r: Extract<VmRecord, { kind: 'fault' }>): void {
    // A vCPU thread inside KVM_RUN faulted: KVM touched guest memory for the guest.
    if (r.vcpu >= 0) {
      const gpa = this.gpaOf(r.hva);
      if (gpa !== undefined) {
        this.counts.guestFaults++;
        this.emit({ op: r.write ? 'write' : 'read', vcpu: r.vcpu, gpa, ret: 'ok' });
        return;
      }
    }
    this.counts.hostFaults++;
    this.emit({ op: r.write ? 'host_write' : 'host_read', hva: r.hva, size: PAGE });
  }

  /** The gpa of a host address in address space 0, by the lowest slot id that maps it. */
  private gpaOf(hva: bigint): bigint | undefined {
    let best: { id: number; gpa: bigint } | undefined;
    for (const [id, s] of this.slots) {
      if (id >>> 16 !== 0 || hva < s.hva || hva >= s.hva + s.size) continue;
      if (best === undefined || id < best.id) best = { id, gpa: s.gpa + (hva - s.hva) };
    }
    return best?.gpa;
  }
}

/** `ret` of an ioctl row: the count or 0, or the errno's name (`-EINVAL`) when it has one. */
function retCell(ret: number): number | string {
  if (ret >= 0) return ret;
  const name = errnoName(-ret);
  return name === undefined ? ret : `-${name}`;
}

const MEMSLOT_FLAGS: ReadonlyArray<readonly [string, bigint]> = [
  ['log', BigInt(KVM_MEM_LOG_DIRTY_PAGES)],
  ['ro', BigInt(KVM_MEM_READONLY)],
  ['gmem', BigInt(KVM_MEM_GUEST_MEMFD)],
];
const MANUAL_PROTECT_FLAGS: ReadonlyArray<readonly [string, bigint]> = [
  ['protect', KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE],
  ['init_set', KVM_DIRTY_LOG_INITIALLY_SET],
];
const GMEM_FLAGS: ReadonlyArray<readonly [string, bigint]> = [
  ['mmap', 1n],
  ['init_shared', 2n],
];

/** A flags cell: `0`, the trace's names joined by `|` when every bit has one, else the number. */
function flagsCell(value: bigint | number, names: ReadonlyArray<readonly [string, bigint]>): string | bigint {
  const v = BigInt(value);
  if (v === 0n) return '0';
  let rest = v;
  const parts: string[] = [];
  for (const [name, bit] of names) {
    if ((rest & bit) === 0n) continue;
    parts.push(name);
    rest &= ~bit;
  }
  return rest === 0n ? parts.join('|') : v;
}
