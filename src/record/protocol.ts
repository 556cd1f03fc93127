// The line protocol between the TS driver and the native recorder (scripts/recorder/recorder.c): trace
// rows in as hex numbers, one answer line per row out. Kept separate from process handling so it can be
// tested without /dev/kvm.

import { OUTCOME_NAMES } from '../core/outcome.js';
import { errnoName } from '../core/abi.js';
import { SYMBOLIC_RET, parseCell } from '../trace/cells.js';
import { u64 } from '../trace/columns.js';
import { F_RET, OP, OPS, isAccessOp, type TraceChunk } from '../trace/schema.js';

/** What the kernel did with one row. */
export type RowAnswer =
  /** An ioctl or syscall: 0, a count (dirty_get) or -errno. */
  | { kind: 'ret'; value: number }
  /** A guest access outcome; `gpa` is the exit's address for mmio/memfault. */
  | { kind: 'access'; outcome: string; gpa?: bigint }
  /** The recorder did not perform the row (or the access ended in an exit the format has no name for). */
  | { kind: 'skipped'; why: string };

export interface SequenceAnswer {
  rows: RowAnswer[];
  /** Set when the recorder could not run the sequence at all. */
  failure?: string;
  /** Wall time the sequence spent in KVM_RUN, in ns (recorders that print `T`). */
  guestNs?: number;
}

/** One sequence (all rows of `chunks`) as recorder input. */
export function encodeSequence(chunks: Iterable<TraceChunk>): string {
  let out = 'S\n';
  for (const c of chunks) out += encodeRows(c);
  return out + 'E\n';
}

/** The rows of one chunk as recorder input lines (a sequence is `S`, these, then `E`). */
export function encodeRows(c: TraceChunk): string {
  let out = '';
  for (let i = 0; i < c.length; i++) {
    const hex = (hi: Uint32Array, lo: Uint32Array): string => u64(hi, lo, i).toString(16);
    out +=
      `${OPS[c.op[i]!]} ${c.present[i]!.toString(16)} ${c.vcpu[i]!.toString(16)} ${hex(c.gpaHi, c.gpaLo)} ` +
      `${hex(c.sizeHi, c.sizeLo)} ${c.slot[i]!.toString(16)} ${hex(c.flagsHi, c.flagsLo)} ${hex(c.hvaHi, c.hvaLo)} ` +
      `${c.fd[i]!.toString(16)} ${hex(c.offsetHi, c.offsetLo)} ${hex(c.attrsHi, c.attrsLo)}\n`;
  }
  return out;
}

/** Split recorder output into per-sequence answers. Throws on a line it does not understand. */
export function parseAnswers(text: string): SequenceAnswer[] {
  const answers: SequenceAnswer[] = [];
  let current: SequenceAnswer = { rows: [] };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const parsed = parseAnswerLine(line);
    if (parsed === 'end') {
      answers.push(current);
      current = { rows: [] };
    } else if ('guestNs' in parsed) current.guestNs = parsed.guestNs;
    else if ('failure' in parsed) current.failure = parsed.failure;
    else current.rows.push(parsed);
  }
  return answers;
}

/** One line of recorder output: a row's answer, the sequence's time or failure, or its end. */
export function parseAnswerLine(line: string): RowAnswer | { guestNs: number } | { failure: string } | 'end' {
  const tag = line[0];
  const rest = line.slice(2);
  if (tag === 'E') return 'end';
  if (tag === 'T') return { guestNs: Number(rest) };
  if (tag === 'F') return { failure: rest };
  if (tag === 'i') return { kind: 'ret', value: Number(rest) };
  if (tag === 'x') return { kind: 'skipped', why: rest };
  if (tag === 'a') {
    const [outcome, addr] = rest.split(' ');
    if (outcome === 'other') return { kind: 'skipped', why: `guest access ended in ${addr ?? 'an unknown exit'}` };
    return { kind: 'access', outcome: outcome!, ...(addr !== undefined ? { gpa: BigInt(addr) } : {}) };
  }
  throw new Error(`recorder printed an unexpected line: '${line.slice(0, 120)}'`);
}

/** The `ret` cell text for an answer, or undefined when the row gets no ret. */
export function retCell(op: number, answer: RowAnswer): string | undefined {
  if (answer.kind === 'skipped') return undefined;
  if (answer.kind === 'access') {
    if (!isAccessOp(op) || !(OUTCOME_NAMES as readonly string[]).includes(answer.outcome)) return undefined;
    return answer.outcome;
  }
  if (answer.value < 0) {
    const name = errnoName(-answer.value);
    return name === undefined ? String(answer.value) : `-${name}`;
  }
  return String(answer.value);
}

/**
 * Write the kernel's answers into the chunks' `ret` column (in place), replacing any ret already there.
 * Returns the rows (0-based, whole trace) that got no ret, with why.
 */
export function fillRets(chunks: readonly TraceChunk[], answers: readonly RowAnswer[]): Array<{ row: number; why: string }> {
  const unrecorded: Array<{ row: number; why: string }> = [];
  let k = 0;
  for (const c of chunks) {
    for (let i = 0; i < c.length; i++, k++) {
      const answer = answers[k];
      if (answer === undefined) throw new Error(`recorder answered ${answers.length} rows, the trace has more`);
      // An expect row's ret is the trace's expectation of the model, not a kernel answer: kept as is
      // (without it the row is not a valid trace row).
      if (c.op[i] === OP.expect) continue;
      c.present[i]! &= ~(1 << F_RET);
      c.hex[i]! &= ~(SYMBOLIC_RET | (1 << F_RET));
      c.verbatim.delete(i * 16 + F_RET);
      const text = retCell(c.op[i]!, answer);
      if (text === undefined) {
        unrecorded.push({ row: c.firstRow + i, why: answer.kind === 'skipped' ? answer.why : `outcome ${String((answer as { outcome?: string }).outcome)}` });
        continue;
      }
      parseCell(c, i, F_RET, text);
    }
  }
  if (k !== answers.length) throw new Error(`recorder answered ${answers.length} rows, the trace has ${k}`);
  return unrecorded;
}
