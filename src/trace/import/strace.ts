// `strace -f -e trace=ioctl,fallocate,close` of a VMM -> trace rows. The memory ioctls of each VM
// (KVM_SET_USER_MEMORY_REGION[2], KVM_CREATE_GUEST_MEMFD, KVM_SET_MEMORY_ATTRIBUTES,
// KVM_GET/CLEAR_DIRTY_LOG), fallocate and close on that VM's guest_memfd files become rows with the
// recorded result in `ret`; everything else is counted. A VM is the fd KVM_CREATE_VM returned, and
// so are the guest_memfds created on it.
//
// strace decodes only struct kvm_userspace_memory_region (src/kvm.c); for the other memory ioctls it
// prints the argument's address, which carries no slot, range or size. Such a line is reported as
// "not decoded" (with its line number) and not guessed at; a guest_memfd whose creation was not
// decoded makes its fallocate/close lines undecodable too, because replay would not know the file.

import { ERRNO } from '../../core/abi.js';
import type { TraceRow } from '../row.js';
import { ioctlRequest } from './kvm-ioctls.js';
import { splitLines, type ImportedRow, type ImportStats, type ImportWarning, type LineImporter } from './result.js';
import { joinResumed, parseNumber, parseStraceLine, parseStruct, splitTopLevel, type StraceLine, type StraceRet } from './strace-line.js';

/** One VM found in the recording and its rows. */
export interface StraceVm {
  /** The VM fd (what KVM_CREATE_VM returned). */
  fd: number;
  /** 1 for the first VM on this fd number, 2 if the number was reused after a close, ... */
  generation: number;
  /** 1-based line of KVM_CREATE_VM. */
  line: number;
  rows: ImportedRow[];
}

export interface StraceImport {
  vms: StraceVm[];
  warnings: ImportWarning[];
  stats: ImportStats & {
    /** Other syscalls (not ioctl, fallocate or close on a tracked fd), by name. */
    otherSyscalls: Record<string, number>;
    /** KVM ioctls strace named that carry no memory state (KVM_RUN, KVM_IRQ_LINE_STATUS, ...). */
    otherIoctls: number;
    /** KVM ioctls strace could not name (`_IOC(..., 0xae, ...)`, raw numbers), by their text. */
    unknownIoctls: Record<string, number>;
    signals: number;
    exits: number;
  };
}

// KVM_MEM_* flag names as strace's xlat/kvm_mem_flags prints them, and the trace's names.
const MEM_FLAGS: ReadonlyArray<readonly [string, string, bigint]> = [
  ['KVM_MEM_LOG_DIRTY_PAGES', 'log', 1n],
  ['KVM_MEM_READONLY', 'ro', 2n],
  ['KVM_MEM_GUEST_MEMFD', 'gmem', 4n],
];
const ATTR_FLAGS: ReadonlyArray<readonly [string, string, bigint]> = [['KVM_MEMORY_ATTRIBUTE_PRIVATE', 'private', 8n]];
const GMEM_FLAGS: ReadonlyArray<readonly [string, string, bigint]> = [
  ['GUEST_MEMFD_FLAG_MMAP', 'mmap', 1n],
  ['GUEST_MEMFD_FLAG_INIT_SHARED', 'init_shared', 2n],
];
const FALLOC_FL_KEEP_SIZE = 0x01n;
const FALLOC_FL_PUNCH_HOLE = 0x02n;
const FALLOC_NAMES: ReadonlyArray<readonly [string, string, bigint]> = [
  ['FALLOC_FL_KEEP_SIZE', 'keep', FALLOC_FL_KEEP_SIZE],
  ['FALLOC_FL_PUNCH_HOLE', 'punch', FALLOC_FL_PUNCH_HOLE],
  ['FALLOC_FL_NO_HIDE_STALE', '', 0x04n],
  ['FALLOC_FL_COLLAPSE_RANGE', '', 0x08n],
  ['FALLOC_FL_ZERO_RANGE', '', 0x10n],
  ['FALLOC_FL_INSERT_RANGE', '', 0x20n],
  ['FALLOC_FL_UNSHARE_RANGE', '', 0x40n],
];

class LineError extends Error {}

/**
 * Flags as strace prints them (`KVM_MEM_LOG_DIRTY_PAGES|KVM_MEM_READONLY`, `0x3`, `0`,
 * `KVM_MEM_READONLY|0x8`): the trace's symbolic text when every bit has a name, else the number.
 */
function parseFlags(text: string, names: ReadonlyArray<readonly [string, string, bigint]>, field: string): { value: bigint; cell: bigint | string } {
  let value = 0n;
  for (const part of text.split('|')) {
    const p = part.trim();
    const named = names.find(([n]) => n === p);
    if (named) value |= named[2];
    else {
      const n = parseNumber(p);
      if (n === undefined) throw new LineError(`${field}: unknown flag '${p}'`);
      value |= n;
    }
  }
  let rest = value;
  const parts: string[] = [];
  for (const [, short, bit] of names) {
    if ((rest & bit) !== 0n && short !== '') {
      parts.push(short);
      rest &= ~bit;
    }
  }
  if (value === 0n) return { value, cell: '0' };
  return { value, cell: rest === 0n ? parts.join('|') : value };
}

function field(struct: Map<string, string>, name: string): bigint {
  const text = struct.get(name);
  if (text === undefined) throw new LineError(`field ${name} not shown (abbreviated struct; rerun strace with -v)`);
  const n = parseNumber(text);
  if (n === undefined) throw new LineError(`field ${name}: not a number: '${text}'`);
  return n;
}

/** The trace's `ret`: 0 / a count as recorded, an error as -EINVAL style text. */
function retCell(ret: StraceRet): number | string | undefined {
  if (ret.errno !== undefined) {
    if (!Object.hasOwn(ERRNO, ret.errno)) throw new LineError(`errno ${ret.errno} has no trace spelling (known: ${Object.keys(ERRNO).join(', ')})`);
    return `-${ret.errno}`;
  }
  return ret.value === undefined ? undefined : Number(ret.value);
}

interface Vm {
  out: StraceVm;
  /** guest_memfd fds created on this VM and still open; false when created but not decoded. */
  gmem: Map<number, boolean>;
}

export interface StraceOptions {
  /** Only this VM fd (others are still tracked, so their ioctls are not mistaken for it). */
  vmFd?: number;
  /**
   * Streaming: each VM (of those `vmFd` selects) as it is found, before any of its rows. With onRow,
   * a VM's `rows` stay empty and the result's `vms` still lists the VMs.
   */
  onVm?: (vm: StraceVm) => void;
  /** Streaming: each row of a selected VM, in recording order, instead of into its VM's `rows`. */
  onRow?: (vm: StraceVm, row: ImportedRow) => void;
}

/** A whole recording in memory (tests, small files). */
export function importStrace(text: string, options: StraceOptions = {}): StraceImport {
  const importer = createStraceImporter(options);
  for (const line of splitLines(text)) importer.feed(line);
  return importer.finish();
}

export function createStraceImporter(options: StraceOptions = {}): LineImporter<StraceImport> {
  const result: StraceImport = {
    vms: [],
    warnings: [],
    stats: { lines: 0, rows: 0, skipped: 0, bad: 0, otherSyscalls: {}, otherIoctls: 0, unknownIoctls: {}, signals: 0, exits: 0 },
  };
  const stats = result.stats;
  const vmByFd = new Map<number, Vm>();
  const generations = new Map<number, number>();
  const pending = new Map<number, { name: string; args: string; line: number; time?: number }>();

  const newVm = (fd: number, line: number): Vm => {
    const generation = (generations.get(fd) ?? 0) + 1;
    generations.set(fd, generation);
    const vm: Vm = { out: { fd, generation, line, rows: [] }, gmem: new Map() };
    vmByFd.set(fd, vm);
    result.vms.push(vm.out);
    if (selected(vm)) options.onVm?.(vm.out);
    return vm;
  };
  const warn = (line: number, message: string): void => {
    result.warnings.push({ line, message });
    stats.bad++;
  };
  const selected = (vm: Vm): boolean => options.vmFd === undefined || vm.out.fd === options.vmFd;
  // A row is final when made (a strace line is one whole call): streaming holds none.
  const emit = (vm: Vm, row: TraceRow, line: number, time: number | undefined): void => {
    const imported: ImportedRow = time === undefined ? { row, line } : { row, line, time };
    if (options.onRow === undefined) vm.out.rows.push(imported);
    else if (selected(vm)) options.onRow(vm.out, imported);
    stats.rows++;
  };
  const gmemOwner = (fd: number): Vm | undefined => {
    for (const vm of vmByFd.values()) if (vm.gmem.has(fd)) return vm;
    return undefined;
  };

  const handleCall = (call: Extract<StraceLine, { kind: 'call' }>, line: number): void => {
    const args = splitTopLevel(call.args);
    if (call.name === 'ioctl') return handleIoctl(args, call.ret, line, call.time);
    if (call.name === 'fallocate' || call.name === 'close') {
      const fd = args[0] === undefined ? undefined : parseNumber(args[0]);
      const owner = fd === undefined ? undefined : gmemOwner(Number(fd));
      if (owner && fd !== undefined) return handleGmemFile(owner, call.name, Number(fd), args, call.ret, line, call.time);
      if (call.name === 'close' && fd !== undefined && vmByFd.has(Number(fd)) && call.ret.errno === undefined) {
        vmByFd.delete(Number(fd));
      }
    }
    stats.otherSyscalls[call.name] = (stats.otherSyscalls[call.name] ?? 0) + 1;
    stats.skipped++;
  };

  const handleIoctl = (args: string[], ret: StraceRet, line: number, time: number | undefined): void => {
    if (args.length < 2) throw new LineError('ioctl with fewer than 2 arguments');
    const request = ioctlRequest(args[1]!);
    if (request.unknownKvm) {
      stats.unknownIoctls[request.name] = (stats.unknownIoctls[request.name] ?? 0) + 1;
      stats.skipped++;
      return;
    }
    if (request.name === 'KVM_CREATE_VM') {
      if (ret.value === undefined || ret.value < 0n) {
        stats.skipped++;
        return;
      }
      newVm(Number(ret.value), line);
      return;
    }
    const fdValue = parseNumber(args[0]!);
    let vm = fdValue === undefined ? undefined : vmByFd.get(Number(fdValue));
    const memoryIoctl = MEMORY_IOCTLS.has(request.name);
    if (!memoryIoctl || request.foreign) {
      if (request.foreign) stats.otherSyscalls['ioctl'] = (stats.otherSyscalls['ioctl'] ?? 0) + 1;
      else stats.otherIoctls++;
      stats.skipped++;
      return;
    }
    if (!vm && fdValue !== undefined && Number(fdValue) === options.vmFd && !generations.has(options.vmFd)) {
      // strace attached (-p) after the VM was created: the fd named with --vm is taken as the VM.
      vm = newVm(options.vmFd, line);
    }
    if (!vm) throw new LineError(`${request.name} on fd ${args[0]} which is not a VM created in this recording (name it with --vm if strace attached later)`);
    const struct = args[2] === undefined ? undefined : parseStruct(args[2]);
    if (!struct) {
      // The guest_memfd still exists in the kernel: remember the fd so its fallocate/close lines are
      // reported against it rather than counted as unrelated.
      if (request.name === 'KVM_CREATE_GUEST_MEMFD' && ret.value !== undefined && ret.value >= 0n) vm.gmem.set(Number(ret.value), false);
      throw new LineError(`${request.name}: argument not decoded by strace (only its address ${args[2] ?? '?'} was recorded)`);
    }
    const r = retCell(ret);
    const withRet = (row: TraceRow): TraceRow => (r === undefined ? row : { ...row, ret: r });
    switch (request.name) {
      case 'KVM_SET_USER_MEMORY_REGION':
      case 'KVM_SET_USER_MEMORY_REGION2': {
        const flags = parseFlags(struct.get('flags') ?? '0', MEM_FLAGS, 'flags');
        const row: TraceRow = {
          op: 'memslot',
          slot: Number(field(struct, 'slot')),
          flags: flags.cell,
          gpa: field(struct, 'guest_phys_addr'),
          size: field(struct, 'memory_size'),
          hva: field(struct, 'userspace_addr'),
        };
        // The kernel reads guest_memfd/guest_memfd_offset only with KVM_MEM_GUEST_MEMFD.
        if (request.name === 'KVM_SET_USER_MEMORY_REGION2' && (flags.value & 4n) !== 0n) {
          row.fd = Number(field(struct, 'guest_memfd'));
          row.offset = field(struct, 'guest_memfd_offset');
        }
        emit(vm, withRet(row), line, time);
        return;
      }
      case 'KVM_CREATE_GUEST_MEMFD': {
        const size = field(struct, 'size');
        const flags = parseFlags(struct.get('flags') ?? '0', GMEM_FLAGS, 'flags');
        // On failure there is no file; fd 0 (stdin, never a guest_memfd) stands in for it.
        const ok = ret.value !== undefined && ret.value >= 0n && ret.errno === undefined;
        const fd = ok ? Number(ret.value) : 0;
        if (ok) vm.gmem.set(fd, true);
        emit(vm, { op: 'gmem_create', size, flags: flags.cell, fd, ...(ok ? { ret: 0 } : r === undefined ? {} : { ret: r }) }, line, time);
        return;
      }
      case 'KVM_SET_MEMORY_ATTRIBUTES': {
        const attrs = parseFlags(struct.get('attributes') ?? '0', ATTR_FLAGS, 'attributes');
        const flags = parseNumber(struct.get('flags') ?? '0');
        if (flags === undefined) throw new LineError(`flags: not a number: '${struct.get('flags')}'`);
        emit(vm, withRet({ op: 'attrs', gpa: field(struct, 'address'), size: field(struct, 'size'), attrs: attrs.cell, flags }), line, time);
        return;
      }
      case 'KVM_GET_DIRTY_LOG': {
        // The ioctl returns 0, while a dirty_get row's ret is the number of dirty pages: only an
        // error is comparable.
        const row: TraceRow = { op: 'dirty_get', slot: Number(field(struct, 'slot')) };
        if (typeof r === 'string') row.ret = r;
        emit(vm, row, line, time);
        return;
      }
      case 'KVM_CLEAR_DIRTY_LOG': {
        emit(
          vm,
          withRet({ op: 'dirty_clear', slot: Number(field(struct, 'slot')), offset: field(struct, 'first_page'), size: field(struct, 'num_pages') }),
          line,
          time,
        );
        return;
      }
    }
  };

  const handleGmemFile = (vm: Vm, name: string, fd: number, args: string[], ret: StraceRet, line: number, time: number | undefined): void => {
    const decoded = vm.gmem.get(fd)!;
    if (name === 'close') {
      if (ret.errno === undefined) vm.gmem.delete(fd);
      if (!decoded) throw new LineError(`close of guest_memfd ${fd} whose KVM_CREATE_GUEST_MEMFD was not decoded`);
      const r = retCell(ret);
      emit(vm, { op: 'gmem_close', fd, ...(r === undefined ? {} : { ret: r }) }, line, time);
      return;
    }
    if (!decoded) throw new LineError(`fallocate on guest_memfd ${fd} whose KVM_CREATE_GUEST_MEMFD was not decoded`);
    if (args.length !== 4) throw new LineError(`fallocate with ${args.length} arguments (expected 4)`);
    const mode = parseFlags(args[1]!, FALLOC_NAMES, 'mode').value;
    const offset = parseNumber(args[2]!);
    const len = parseNumber(args[3]!);
    if (offset === undefined || len === undefined) throw new LineError(`fallocate: offset/len not numbers`);
    // kvm_gmem_fallocate takes KEEP_SIZE alone (allocate) or with PUNCH_HOLE; other modes fail with
    // EOPNOTSUPP before touching anything, which a trace row has no op for.
    let op: 'gmem_punch' | 'gmem_alloc';
    if (mode === (FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) op = 'gmem_punch';
    else if (mode === FALLOC_FL_KEEP_SIZE) op = 'gmem_alloc';
    else throw new LineError(`fallocate mode ${args[1]} on a guest_memfd has no trace op (KVM answers EOPNOTSUPP)`);
    const r = retCell(ret);
    // gmem_alloc carries its mode (KEEP_SIZE) so that replay calls fallocate() as the VMM did.
    emit(vm, { op, fd, offset, size: len, ...(op === 'gmem_alloc' ? { flags: 'keep_size' } : {}), ...(r === undefined ? {} : { ret: r }) }, line, time);
  };

  const feed = (text: string): void => {
    const lineNo = ++stats.lines;
    let parsed = parseStraceLine(text);
    try {
      switch (parsed.kind) {
        case 'blank':
          return;
        case 'note':
          stats.skipped++;
          return;
        case 'signal':
          stats.signals++;
          stats.skipped++;
          return;
        case 'exit':
          stats.exits++;
          stats.skipped++;
          return;
        case 'bad':
          throw new LineError(parsed.reason);
        case 'unfinished':
          pending.set(parsed.pid, { name: parsed.name, args: parsed.args, line: lineNo, ...(parsed.time === undefined ? {} : { time: parsed.time }) });
          return;
        case 'resumed': {
          const start = pending.get(parsed.pid);
          if (!start || start.name !== parsed.name) throw new LineError(`'${parsed.name} resumed' without an unfinished ${parsed.name} of pid ${parsed.pid}`);
          pending.delete(parsed.pid);
          const joined = joinResumed(start.name, start.args, parsed.rest);
          if (joined.kind !== 'call') throw new LineError(`resumed call does not parse: ${joined.kind === 'bad' ? joined.reason : joined.kind}`);
          // The row is the call's: its first line and start time.
          parsed = { ...joined, pid: parsed.pid, ...(start.time === undefined ? {} : { time: start.time }) };
          handleCall(parsed, start.line);
          return;
        }
        case 'call':
          handleCall(parsed, lineNo);
          return;
      }
    } catch (err) {
      if (!(err instanceof LineError)) throw err;
      warn(lineNo, err.message);
    }
  };

  const finish = (): StraceImport => {
    for (const [pid, start] of pending) {
      // A call still running when the recording ended (the process was killed, or strace detached).
      if (start.name === 'ioctl' || start.name === 'fallocate') warn(start.line, `${start.name} of pid ${pid} never completed`);
      else stats.skipped++;
    }
    pending.clear();
    if (options.vmFd !== undefined) result.vms = result.vms.filter((vm) => vm.fd === options.vmFd);
    return result;
  };
  return { feed, finish };
}

const MEMORY_IOCTLS = new Set([
  'KVM_SET_USER_MEMORY_REGION',
  'KVM_SET_USER_MEMORY_REGION2',
  'KVM_CREATE_GUEST_MEMFD',
  'KVM_SET_MEMORY_ATTRIBUTES',
  'KVM_GET_DIRTY_LOG',
  'KVM_CLEAR_DIRTY_LOG',
]);
