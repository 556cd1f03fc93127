// One line of strace output, split into its parts. strace's line grammar: an optional pid (`6286  ` with
// -f and -o, `[pid  6286] ` on a terminal), an optional timestamp (-t `19:16:07`, -tt `19:16:07.123456`,
// -ttt `1700000000.123456`), then a call `name(args) = ret [ERRNO (text)] [<time>]`, a call cut short
// by another thread (`name(args <unfinished ...>`) and its completion (`<... name resumed>args) = ret`),
// a signal (`--- SIGUSR1 {...} ---`), an exit (`+++ exited with 0 +++`) or a note from strace itself.

export type StraceLine =
  | { kind: 'call'; pid: number; time?: number; name: string; args: string; ret: StraceRet }
  | { kind: 'unfinished'; pid: number; time?: number; name: string; args: string }
  | { kind: 'resumed'; pid: number; time?: number; name: string; rest: string }
  | { kind: 'signal' | 'exit' | 'note' | 'blank'; pid: number; time?: number }
  | { kind: 'bad'; reason: string };

/** A return value: a number (or `?` when the process went away mid-call), plus the errno name. */
export interface StraceRet {
  value?: bigint;
  errno?: string;
}

const PREFIX = /^(?:\[pid\s+(\d+)\]\s+|(\d+)\s+)?(?:(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)\s+|(\d+\.\d+)\s+)?(.*)$/;
// Greedy args: the last `) = ` that lets the rest parse is the call's own.
const CALL = /^([a-z_0-9]+)\((.*)\)\s+=\s+(-?\d+|0x[0-9a-f]+|\?)(?:<[^>]*>)?(?:\s+(E[A-Z0-9]+)\s+\([^)]*\))?(?:\s+\(.*\))?(?:\s+<unavailable>)?(?:\s+<\d+\.\d+>)?\s*$/;
const UNFINISHED = /^([a-z_0-9]+)\((.*?)\s*<unfinished \.\.\.>\s*$/;
const RESUMED = /^<\.\.\. ([a-z_0-9]+) resumed>\s*(.*)$/;

/** Splits one line; the pid is 0 when strace printed none (a single process, or the first one). */
export function parseStraceLine(text: string): StraceLine {
  const line = text.trimEnd();
  const m = PREFIX.exec(line)!;
  const pid = Number(m[1] ?? m[2] ?? 0);
  let time: number | undefined;
  if (m[3] !== undefined) time = Number(m[3]) * 3600 + Number(m[4]) * 60 + Number(m[5]);
  else if (m[6] !== undefined) time = Number(m[6]);
  const body = m[7]!;
  const at = time === undefined ? { pid } : { pid, time };
  if (body === '') return { kind: 'blank', ...at };
  if (body.startsWith('--- ') && body.endsWith(' ---')) return { kind: 'signal', ...at };
  if (body.startsWith('+++ ') && body.endsWith(' +++')) return { kind: 'exit', ...at };
  if (body.startsWith('strace: ') || body.startsWith('????')) return { kind: 'note', ...at };
  const unfinished = UNFINISHED.exec(body);
  if (unfinished) return { kind: 'unfinished', ...at, name: unfinished[1]!, args: unfinished[2]! };
  const resumed = RESUMED.exec(body);
  if (resumed) return { kind: 'resumed', ...at, name: resumed[1]!, rest: resumed[2]! };
  const call = CALL.exec(body);
  if (call) {
    const ret: StraceRet = {};
    if (call[3] !== '?') ret.value = BigInt(call[3]!);
    if (call[4] !== undefined) ret.errno = call[4];
    return { kind: 'call', ...at, name: call[1]!, args: call[2]!, ret };
  }
  return { kind: 'bad', reason: `not a strace line: '${truncate(body)}'` };
}

/** A call completed by `<... name resumed>rest`: the rest joined to the args printed before. */
export function joinResumed(name: string, args: string, rest: string): StraceLine {
  return parseStraceLine(`${name}(${args}${rest}`);
}

/**
 * Top-level arguments of a call (commas inside `{}`, `[]`, `()` and strings do not split). strace
 * prints structs as `{field=value, ...}`.
 */
export function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === '{' || ch === '[' || ch === '(') depth++;
    else if (ch === '}' || ch === ']' || ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = text.slice(start).trim();
  if (last !== '' || out.length > 0) out.push(last);
  return out;
}

/**
 * A decoded struct `{slot=0, flags=KVM_MEM_READONLY, ...}` as field -> value text, or undefined when
 * strace printed only an address (it could not or was told not to decode: `-e verbose=none`, or an
 * ioctl its decoder does not cover). Abbreviated parts (`...`) are left out; `-X verbose` comments
 * (`0x2 /* KVM_MEM_READONLY *\/`) are dropped to the number.
 */
export function parseStruct(text: string): Map<string, string> | undefined {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) return undefined;
  const fields = new Map<string, string>();
  for (const part of splitTopLevel(t.slice(1, -1))) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).replace(/\s*\/\*.*?\*\/\s*/g, '').trim());
  }
  return fields;
}

/** A number as strace prints it (decimal, 0x hex, or an fd with its -y path `12<anon_inode:...>`). */
export function parseNumber(text: string): bigint | undefined {
  const m = /^(-?\d+|0x[0-9a-f]+)(?:<.*>)?$/i.exec(text.trim());
  return m ? BigInt(m[1]!) : undefined;
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
