// The record stream the VMM recorder library (scripts/record-vm/vmrec.c) writes, one event per line
// (docs/record-vm.md, "Record stream"). Numbers are hex except `ret` (signed decimal: a count, an fd
// or -errno). A dirty-log record is a header line, `B` lines of page runs, and an `E` line, so that a
// bitmap of any size streams through in bounded memory.

/** A malformed record: names its 1-based line in the stream. */
export class RecordError extends Error {
  override name = 'RecordError';
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(`record stream line ${line}: ${detail}`);
  }
}

export type VmRecord =
  | { kind: 'init'; pid: number }
  | { kind: 'vm'; fd: number; ret: number }
  | { kind: 'vcpu'; vmFd: number; ret: number; id: number }
  | {
      kind: 'memslot';
      tid: number;
      vmFd: number;
      ret: number;
      slot: number;
      flags: number;
      gpa: bigint;
      size: bigint;
      hva: bigint;
      gmemFd: number;
      gmemOffset: bigint;
      version: 1 | 2;
    }
  | { kind: 'gmem_create'; vmFd: number; ret: number; size: bigint; flags: bigint }
  | { kind: 'attrs'; vmFd: number; ret: number; gpa: bigint; size: bigint; attrs: bigint; flags: bigint }
  | { kind: 'fallocate'; fd: number; ret: number; mode: number; offset: bigint; len: bigint }
  | { kind: 'close'; fd: number; ret: number; fdKind: number }
  | { kind: 'enable_cap'; vmFd: number; ret: number; cap: number; flags: number; arg0: bigint }
  | { kind: 'dirty'; clear: boolean; vmFd: number; ret: number; slot: number; first: bigint; npages: bigint; popcount: number }
  /** Runs of dirty pages (page index within the slot, page count) of the dirty record before. */
  | { kind: 'dirty_runs'; runs: Array<readonly [bigint, bigint]> }
  | { kind: 'dirty_end' }
  | { kind: 'exit'; vcpu: number; ret: number; reason: number; a: bigint; b: bigint; c: bigint }
  | { kind: 'fault'; tid: number; hva: bigint; write: boolean; vcpu: number }
  | { kind: 'uffd'; status: string }
  | { kind: 'register'; hva: bigint; size: bigint; status: string }
  | { kind: 'end'; faults: number; resolved: number };

const FIELD_COUNTS: Readonly<Record<string, number>> = { I: 3, V: 5, P: 6, M: 13, G: 7, A: 9, F: 8, K: 6, D: 9, C: 9, Q: 8, X: 9, U: 6, Z: 4 };

/** One line of the stream as a record; throws RecordError on anything else. */
export function parseRecord(text: string, line: number): VmRecord {
  const f = text.split(' ');
  const type = f[0]!;
  if (type === 'E') return { kind: 'dirty_end' };
  if (type === 'B') return { kind: 'dirty_runs', runs: f.slice(1).map((run) => parseRun(run, line)) };
  if (type === 'N') return { kind: 'uffd', status: f.slice(2).join(' ') };
  if (type === 'R') {
    if (f.length < 4) throw new RecordError(line, `'R' record with ${f.length} fields (expected 4 or more)`);
    return { kind: 'register', hva: hex(f[1], line), size: hex(f[2], line), status: f.slice(3).join(' ') };
  }
  const want = FIELD_COUNTS[type];
  if (want === undefined) throw new RecordError(line, `unknown record type '${type.slice(0, 20)}'`);
  if (f.length !== want) throw new RecordError(line, `'${type}' record with ${f.length} fields (expected ${want})`);
  const n = (i: number): number => num(f[i], line);
  const d = (i: number): number => dec(f[i], line);
  const h = (i: number): bigint => hex(f[i], line);
  switch (type) {
    case 'I':
      return { kind: 'init', pid: n(1) };
    case 'V':
      return { kind: 'vm', fd: d(3), ret: d(4) };
    case 'P':
      return { kind: 'vcpu', vmFd: d(3), ret: d(4), id: n(5) };
    case 'M':
      return {
        kind: 'memslot',
        tid: n(2),
        vmFd: d(3),
        ret: d(4),
        slot: n(5),
        flags: n(6),
        gpa: h(7),
        size: h(8),
        hva: h(9),
        gmemFd: n(10),
        gmemOffset: h(11),
        version: d(12) === 2 ? 2 : 1,
      };
    case 'G':
      return { kind: 'gmem_create', vmFd: d(3), ret: d(4), size: h(5), flags: h(6) };
    case 'A':
      return { kind: 'attrs', vmFd: d(3), ret: d(4), gpa: h(5), size: h(6), attrs: h(7), flags: h(8) };
    case 'F':
      return { kind: 'fallocate', fd: d(3), ret: d(4), mode: n(5), offset: h(6), len: h(7) };
    case 'K':
      return { kind: 'close', fd: d(3), ret: d(4), fdKind: d(5) };
    case 'D':
    case 'C':
      return { kind: 'dirty', clear: type === 'C', vmFd: d(3), ret: d(4), slot: n(5), first: h(6), npages: h(7), popcount: n(8) };
    case 'Q':
      return { kind: 'enable_cap', vmFd: d(3), ret: d(4), cap: n(5), flags: n(6), arg0: h(7) };
    case 'X':
      return { kind: 'exit', vcpu: d(3), ret: d(4), reason: n(5), a: h(6), b: h(7), c: h(8) };
    case 'U':
      return { kind: 'fault', tid: n(2), hva: h(3), write: f[4] === '1', vcpu: d(5) };
    default: // 'Z'
      return { kind: 'end', faults: n(2), resolved: n(3) };
  }
}

function hex(text: string | undefined, line: number): bigint {
  if (text === undefined || !/^[0-9a-f]{1,16}$/.test(text)) throw new RecordError(line, `expected a hex number, found '${text ?? ''}'`);
  return BigInt(`0x${text}`);
}

function num(text: string | undefined, line: number): number {
  const v = hex(text, line);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RecordError(line, `number too large: ${text}`);
  return Number(v);
}

function dec(text: string | undefined, line: number): number {
  if (text === undefined || !/^-?[0-9]{1,19}$/.test(text)) throw new RecordError(line, `expected a decimal number, found '${text ?? ''}'`);
  return Number(text);
}

function parseRun(text: string, line: number): readonly [bigint, bigint] {
  const plus = text.indexOf('+');
  if (plus < 0) throw new RecordError(line, `dirty run '${text}' is not START+LEN`);
  return [hex(text.slice(0, plus), line), hex(text.slice(plus + 1), line)];
}
