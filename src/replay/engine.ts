// The replay engine: drives trace chunks through a core Vm, one row at a time, and compares what the
// model answers with what the trace recorded (`ret`) and with `expect` rows. Single-threaded; the
// pool runs one engine per job.

import { errnoName } from '../core/abi.js';
import { M, METRIC_NAMES, metricId } from '../core/metrics.js';
import {
  ACCESS_EXEC,
  ACCESS_READ,
  ACCESS_WRITE,
  OUTCOME_NAMES,
  OUTCOME_OK,
} from '../core/outcome.js';
import { DEFAULT_PROFILE, parseProfile, type Profile } from '../core/profile.js';
import { Vm } from '../core/vm.js';
import {
  F_FD,
  F_OFFSET,
  F_RET,
  F_SIZE,
  F_VCPU,
  OP,
  OPS,
  type TraceChunk,
  type TraceMeta,
} from '../trace/schema.js';
import { u64 as u64At } from '../trace/columns.js';
import { readTrace } from '../trace/io.js';
import { gfnAt, has } from './fields.js';

export interface Divergence {
  /** CSV line (or .s2t record) of the row. */
  line: number;
  op: string;
  expected: string;
  got: string;
}

export interface ReplayState {
  divergences: Divergence[];
}

export interface LoadedTrace {
  meta: TraceMeta;
  chunks: Iterable<TraceChunk>;
}

export interface ReplayOptions {
  /** Kept for callers: divergences are always collected; `check` decides what they mean. */
  check?: boolean;
}

export interface ReplayResult {
  profile: string;
  counters: Record<string, number>;
  divergences: Divergence[];
  timing: Record<string, number>;
}

/** An op whose model answers nothing comparable (yet): its `ret`, if any, is not checked. */
const NO_RESULT = Number.NaN;

export function newReplayState(): ReplayState {
  return { divergences: [] };
}

/** Replay every row of one chunk through `vm`. */
export function replayChunk(vm: Vm, chunk: TraceChunk, state: ReplayState): void {
  const c = vm.counters;
  const n = chunk.length;
  for (let i = 0; i < n; i++) {
    const op = chunk.op[i]!;
    c[M.events]!++;
    if (op === OP.read || op === OP.write || op === OP.exec) {
      const got = replayAccess(vm, chunk, i, op);
      if (has(chunk, i, F_RET) && chunk.ret[i] !== got) {
        diverge(state, chunk, i, outcomeText(chunk.ret[i]!), outcomeText(got));
      }
      continue;
    }
    if (op === OP.expect) {
      replayExpect(vm, chunk, i, state);
      continue;
    }
    const got = replayIoctl(vm, chunk, i, op);
    if (!Number.isNaN(got) && has(chunk, i, F_RET) && chunk.ret[i] !== got) {
      diverge(state, chunk, i, retText(chunk.ret[i]!), retText(got));
    }
  }
  c[M.divergences] = state.divergences.length;
}

/** An access row: every 4K page of [gpa, gpa + size) in order; the first exit ends the row. */
function replayAccess(vm: Vm, chunk: TraceChunk, i: number, op: number): number {
  const kind = op === OP.read ? ACCESS_READ : op === OP.write ? ACCESS_WRITE : ACCESS_EXEC;
  const vcpu = has(chunk, i, F_VCPU) ? chunk.vcpu[i]! : 0;
  const flags = chunk.flagsLo[i]!;
  const gfn = gfnAt(chunk.gpaHi, chunk.gpaLo, i);
  let pages = 1;
  if (has(chunk, i, F_SIZE)) {
    const size = chunk.sizeHi[i]! * 0x100000000 + chunk.sizeLo[i]!;
    if (size > 0) pages = Math.floor(((chunk.gpaLo[i]! & 0xfff) + size - 1) / 4096) + 1;
  }
  for (let p = 0; p < pages; p++) {
    const out = vm.access(vcpu, gfn + p, kind, flags);
    if (out !== OUTCOME_OK) return out;
  }
  return OUTCOME_OK;
}

/** Every op that is not a guest access or an `expect`: returns the ioctl's result, or NO_RESULT. */
function replayIoctl(vm: Vm, chunk: TraceChunk, i: number, op: number): number {
  const gpa = u64At(chunk.gpaHi, chunk.gpaLo, i);
  const size = u64At(chunk.sizeHi, chunk.sizeLo, i);
  const hva = u64At(chunk.hvaHi, chunk.hvaLo, i);
  const offset = has(chunk, i, F_OFFSET) ? u64At(chunk.offsetHi, chunk.offsetLo, i) : 0n;
  // An absent fd is no file at all (not fd 0, which a trace may name).
  const fd = has(chunk, i, F_FD) ? chunk.fd[i]! : -1;
  switch (op) {
    case OP.memslot:
      // kvm_userspace_memory_region2.flags is a u32: higher bits cannot reach the kernel.
      return vm.setUserMemoryRegion2(chunk.slot[i]!, chunk.flagsLo[i]! | 0, gpa, size, hva, fd, offset);
    case OP.gmem_create:
      return vm.createGuestMemfd(fd, size, u64At(chunk.flagsHi, chunk.flagsLo, i));
    case OP.gmem_punch:
      return vm.gmemFallocate(fd, true, offset, size);
    case OP.gmem_alloc:
      return vm.gmemFallocate(fd, false, offset, size);
    case OP.gmem_close:
      return vm.closeGuestMemfd(fd);
    case OP.attrs:
      return vm.setMemoryAttributes(
        gpa,
        size,
        u64At(chunk.attrsHi, chunk.attrsLo, i),
        u64At(chunk.flagsHi, chunk.flagsLo, i),
      );
    case OP.dirty_get:
      return vm.getDirtyLog(chunk.slot[i]!);
    case OP.dirty_clear:
      return vm.clearDirtyLog(chunk.slot[i]!, offset, size);
    case OP.backing:
      vm.setBacking(hva, size, chunk.flagsLo[i]!);
      return 0;
    case OP.unmap_hva:
      vm.unmapHva(hva, size);
      return 0;
    case OP.uffd:
      vm.registerUffd(hva, size, chunk.flagsLo[i]!);
      return 0;
    case OP.host_read:
      return vm.hostAccess(hva, size, false);
    case OP.host_write:
      return vm.hostAccess(hva, size, true);
    default:
      return replayBesideOp(vm, chunk, i, op);
  }
}

/**
 * The models beside the stage-2 (src/core/iotlb.ts, src/core/hypshare.ts). IOTLB rows: slot = asid,
 * gpa = iova, hva = uaddr, flags = perm. Hyp share rows: gpa = pfn << 12; a recorded failure (negative
 * ret) is injected as the hypercall's answer, so the model follows the kernel's error path.
 */
function replayBesideOp(vm: Vm, chunk: TraceChunk, i: number, op: number): number {
  switch (op) {
    case OP.iotlb_update:
      return vm.iotlb.update(
        chunk.slot[i]!,
        u64At(chunk.gpaHi, chunk.gpaLo, i),
        u64At(chunk.sizeHi, chunk.sizeLo, i),
        u64At(chunk.hvaHi, chunk.hvaLo, i),
        chunk.flagsLo[i]!,
      );
    case OP.iotlb_invalidate:
      return vm.iotlb.invalidate(chunk.slot[i]!, u64At(chunk.gpaHi, chunk.gpaLo, i), u64At(chunk.sizeHi, chunk.sizeLo, i));
    case OP.iotlb_batch_begin:
      return vm.iotlb.batchBegin(chunk.slot[i]!);
    case OP.iotlb_batch_end:
      return vm.iotlb.batchEnd(chunk.slot[i]!);
    case OP.vdpa_close:
      return vm.iotlb.close();
    case OP.hyp_share:
    case OP.hyp_unshare: {
      const pfn = gfnAt(chunk.gpaHi, chunk.gpaLo, i);
      const recorded = has(chunk, i, F_RET) ? chunk.ret[i]! : 0;
      const injected = recorded < 0 ? recorded : 0;
      return op === OP.hyp_share ? vm.hypshare.share(pfn, injected) : vm.hypshare.unshare(pfn, injected);
    }
    default:
      return NO_RESULT;
  }
}

function replayExpect(vm: Vm, chunk: TraceChunk, i: number, state: ReplayState): void {
  const name = chunk.names[chunk.flagsLo[i]!] ?? '';
  const expected = chunk.ret[i]!;
  const id = metricId(name);
  if (id < 0) {
    diverge(state, chunk, i, `${name} = ${expected}`, `no such metric '${name}'`);
    return;
  }
  const got = vm.metric(id);
  if (got !== expected) diverge(state, chunk, i, `${name} = ${expected}`, `${name} = ${got}`);
}

function diverge(state: ReplayState, chunk: TraceChunk, i: number, expected: string, got: string): void {
  state.divergences.push({ line: chunk.line[i]!, op: OPS[chunk.op[i]!] ?? '?', expected, got });
}

function outcomeText(code: number): string {
  return OUTCOME_NAMES[code] ?? String(code);
}

/** An ioctl result as a trace writes it: -EINVAL style for errors, the number otherwise. */
export function retText(value: number): string {
  if (value < 0) {
    const name = errnoName(-value);
    return name === undefined ? String(value) : `-${name}`;
  }
  return String(value);
}

/** The profile a trace replays under: the one given, else the trace's `# profile:`, else x86-tdp. */
export function resolveProfile(meta: TraceMeta, profile?: Profile | string): Profile {
  if (profile !== undefined) return typeof profile === 'string' ? parseProfile(profile) : profile;
  const own = meta.fields['profile'];
  return own !== undefined && own !== '' ? parseProfile(own) : DEFAULT_PROFILE;
}

/** Replay a loaded trace (or a file, read first) and return the modeled counters and divergences. */
export function replayTrace(trace: LoadedTrace, profile?: Profile | string, options?: ReplayOptions): ReplayResult;
export function replayTrace(
  trace: string,
  profile?: Profile | string,
  options?: ReplayOptions,
): Promise<ReplayResult>;
export function replayTrace(
  trace: LoadedTrace | string,
  profile?: Profile | string,
  options: ReplayOptions = {},
): ReplayResult | Promise<ReplayResult> {
  if (typeof trace === 'string') {
    return readTrace(trace).then((loaded) => replayLoaded(loaded, profile, options));
  }
  return replayLoaded(trace, profile, options);
}

function replayLoaded(trace: LoadedTrace, profile: Profile | string | undefined, options: ReplayOptions): ReplayResult {
  void options;
  const resolved = resolveProfile(trace.meta, profile);
  const vm = new Vm(resolved);
  const state = newReplayState();
  for (const chunk of trace.chunks) replayChunk(vm, chunk, state);
  const final = vm.finish();
  const counters: Record<string, number> = {};
  METRIC_NAMES.forEach((name, id) => {
    counters[name] = final[id]!;
  });
  // Per-conversion distributions: conv.* join the modeled counters, time.conversion_* the timings.
  const conv = vm.conversionStats();
  Object.assign(counters, conv.modeled);
  return { profile: resolved.name, counters, divergences: state.divergences, timing: conv.timing };
}

