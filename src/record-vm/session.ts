// Runs a VMM under the recorder library and writes its trace: build the library, start the command
// with LD_PRELOAD and a pipe for the record stream, convert records to rows as they arrive (the pipe
// is read only as fast as rows are written, so an hours-long VM holds a bounded amount), stop the VMM
// after --duration, and write the metadata last.

import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { release } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { DEFAULT_PROFILE_NAME, modeledVersionOf } from '../core/profile.js';
import { InputError, TraceError, UnavailableError } from '../errors.js';
import type { TraceRow } from '../trace/row.js';
import { TRACE_MAGIC_LINE, type TraceMeta } from '../trace/schema.js';
import { VmRecordConverter, type RecordCounts } from './convert.js';
import { vmRecorderLibrary } from './library.js';
import { StreamingTraceOutput } from './output.js';
import { parseRecord, RecordError } from './records.js';
import { processBacking } from './smaps.js';

export interface RecordVmOptions {
  command: string;
  args: readonly string[];
  out: string;
  /** Seconds after which the VMM is stopped (SIGTERM, then SIGKILL 5 s later). */
  durationS?: number;
  /** Where the VMM's stdin/stdout/stderr go (default: inherited). */
  stdio?: 'inherit' | 'ignore';
  /** Environment variables to set on top of this process's (e.g. LD_PRELOAD of the caller's own). */
  env?: Record<string, string>;
  /** Stops the VMM like --duration does when aborted (a caller watching the guest's console). */
  stop?: AbortSignal;
  /** More `key: value` metadata (e.g. how to regenerate a shipped recording). */
  extraMeta?: ReadonlyArray<readonly [string, string]>;
}

export interface RecordVmResult {
  rows: number;
  counts: RecordCounts;
  wallS: number;
  /** The VMM's exit: a code, or the signal that ended it. */
  exit: { code: number | null; signal: NodeJS.Signals | null };
  stoppedByDuration: boolean;
  meta: TraceMeta;
}

/** Grace between SIGTERM and SIGKILL when --duration ends a VMM. */
const KILL_GRACE_MS = 5000;

export async function recordVm(options: RecordVmOptions): Promise<RecordVmResult> {
  if (process.platform !== 'linux') throw new UnavailableError(`record-vm needs Linux with /dev/kvm (this is ${process.platform})`);
  if (!existsSync('/dev/kvm')) throw new UnavailableError('record-vm: /dev/kvm does not exist (no KVM on this machine)');
  const library = vmRecorderLibrary();
  const binary = findCommand(options.command);
  const out = resolve(options.out);
  const output = await StreamingTraceOutput.create(out);
  const converter: VmRecordConverter = new VmRecordConverter((row) => output.push(row), {
    backing: (hva, size): TraceRow[] => (converter.pid === undefined ? [] : processBacking(converter.pid, hva, size)),
  });

  const preload = [library, process.env['LD_PRELOAD'], options.env?.['LD_PRELOAD']].filter((p) => p).join(' ');
  const t0 = performance.now();
  const child = spawn(options.command, [...options.args], {
    stdio: [options.stdio ?? 'inherit', options.stdio ?? 'inherit', options.stdio ?? 'inherit', 'pipe'],
    env: { ...process.env, ...options.env, LD_PRELOAD: preload, S2BENCH_VMREC_FD: '3' },
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((done) => {
    child.once('error', (error) => done({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => done({ code, signal }));
  });
  let stoppedByDuration = false;
  let killTimer: NodeJS.Timeout | undefined;
  // The command and its descendants: stopping a wrapper (strace, timeout, a script) stops its VMM too.
  // (Not a process group of its own: an interactive VMM must stay in the terminal's foreground group.)
  const signalGroup = (signal: NodeJS.Signals): void => {
    if (child.pid !== undefined) signalTree(child.pid, signal);
  };
  const stop = (): void => {
    if (stoppedByDuration) return;
    stoppedByDuration = true;
    signalGroup('SIGTERM');
    killTimer = setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
  };
  const durationTimer = options.durationS === undefined ? undefined : setTimeout(stop, options.durationS * 1000);
  options.stop?.addEventListener('abort', stop);
  // Ctrl-C stops the VMM and still writes the trace.
  const onSigint = (): void => signalGroup('SIGTERM');
  process.on('SIGINT', onSigint);

  // The recorded process's executable (the VMM, also when the command is a wrapper).
  let vmmPath: string | undefined;
  try {
    let line = 0;
    const lines = createInterface({ input: child.stdio[3] as Readable, crlfDelay: Infinity });
    for await (const text of lines) {
      line++;
      if (text === '') continue;
      try {
        converter.feed(parseRecord(text, line));
        if (vmmPath === undefined && converter.pid !== undefined) vmmPath = executableOf(converter.pid) ?? binary;
      } catch (err) {
        if (err instanceof TraceError) throw new InputError(`record-vm: record stream line ${line}: ${err.detail}`);
        if (err instanceof RecordError) throw new InputError(`record-vm: ${err.message}`);
        throw err;
      }
      // Awaited only when a chunk filled: the pipe is read no faster than rows are written.
      if (output.hasPending) await output.flush();
    }
    converter.finish();
  } catch (err) {
    signalGroup('SIGKILL');
    await output.abort();
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
  const exit = await exited;
  clearTimeout(durationTimer);
  clearTimeout(killTimer);
  options.stop?.removeEventListener('abort', stop);
  const wallS = (performance.now() - t0) / 1000;
  if (exit.error !== undefined || converter.pid === undefined) {
    await output.abort();
    if (exit.error !== undefined) throw new InputError(`record-vm: cannot run '${options.command}': ${exit.error.message}`);
    const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with status ${exit.code}`;
    throw new InputError(
      `record-vm: '${options.command}' ${how} after ${wallS.toFixed(1)} s without creating a KVM VM (nothing recorded; ` +
        'a wrapper that drops LD_PRELOAD or closes inherited fds, such as sudo or a setuid binary, hides the VMM from the recorder)',
    );
  }
  const meta = recordingMeta(options, vmmPath ?? binary, converter, wallS, stoppedByDuration);
  meta.bodyComments = converter.comments;
  await output.finish(meta);
  return { rows: output.rowCount, counts: converter.counts, wallS, exit: { code: exit.code, signal: exit.signal }, stoppedByDuration, meta };
}

/** Signals a process and every descendant of it (found through /proc). */
function signalTree(pid: number, signal: NodeJS.Signals): void {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop()!;
    todo.push(...(children.get(p) ?? []));
    try {
      process.kill(p, signal);
    } catch {
      // already gone
    }
  }
}

/** The command's path (for the metadata), or a clear error when it does not exist. */
function findCommand(command: string): string {
  const candidates = command.includes('/') ? [command] : (process.env['PATH'] ?? '').split(':').filter((d) => d).map((d) => join(d, command));
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return isAbsolute(path) ? path : resolve(path);
    } catch {
      // next
    }
  }
  throw new InputError(`record-vm: command '${command}' not found or not executable`);
}

function executableOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/** The VMM's own `--version` first line, without the recorder loaded; '' when it has none. */
function vmmVersion(binary: string): string {
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
  return (r.stdout ?? '').split('\n')[0]!.trim();
}

function recordingMeta(options: RecordVmOptions, binary: string, c: VmRecordConverter, wallS: number, stopped: boolean): TraceMeta {
  const counts = c.counts;
  const commandLine = [options.command, ...options.args].map(shellWord).join(' ');
  const fields: Array<[string, string]> = [
    ['arch', 'x86_64'],
    ['kernel', release()],
    ['source', `s2bench record-vm -- ${commandLine}`],
    // The recorded returns are this host kernel's answers: replay --check holds the model to them
    // under the matching version; other profiles' differences are behaviour changes.
    ['recorded-under', `${DEFAULT_PROFILE_NAME}@${modeledVersionOf(release())}`],
    ['vmm', vmmVersion(binary) ? `${binary} (${vmmVersion(binary)})` : binary],
    ['duration', `${wallS.toFixed(1)} s${stopped ? ' (stopped by s2bench: --duration or a stop request)' : ''}`],
    ['userfaultfd', c.uffd === 'on' ? 'on: first touches of RAM slots recorded' : c.uffd === undefined ? 'not used (no RAM slot)' : `off (${c.uffd}): ioctls and exits only`],
    [
      'counts',
      `${counts.memslotIoctls} memslot ioctls, ${counts.vcpus} vCPUs, ${counts.guestFaults} guest first touches, ${counts.hostFaults} host first touches, ` +
        `${counts.dirtyGets} dirty-log gets (${counts.dirtyPages} pages), exits ${JSON.stringify(counts.exits)}`,
    ],
    ...(options.extraMeta ?? []).map(([k, v]): [string, string] => [k, v]),
  ];
  const comments = [
    TRACE_MAGIC_LINE,
    ...fields.map(([k, v]) => `# ${k}: ${v}`),
    '# note: pages the VMM populated before their slot existed were present and did not fault: they have no first-touch row',
    ...(c.uffd === 'on'
      ? ['# note: userfaultfd fills registered ranges 4 KiB at a time: the recorded VM ran without THP there; backing rows say what its VMAs allow']
      : []),
    '# note: dirty pages become write rows of their logging interval in gfn order, before the dirty_get; which vCPU wrote them, and when within the interval, is not known',
    '# note: pages a get reports that were already set (not yet cleared under manual protect, or initially set) are not writes: only the others become write rows',
    ...c.notes.map((n) => `# note: ${n}`),
  ];
  return { comments, fields: Object.fromEntries(fields) };
}

function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=,+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
