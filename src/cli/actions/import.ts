// `s2bench import strace|tracecmd`: recordings of real VMs -> traces.
//
// strace: one trace per VM. With one VM the output is OUT; with several, each VM's trace is written
// beside OUT as OUT-STEM.vmFD.EXT (a VM fd number reused after close gets .vmFD-2, ...), unless --vm
// picks one. `--faults FILE` merges a trace-cmd/perf fault recording of the same run by timestamp
// (both need timestamps: strace -ttt; see --faults-offset for clocks).
// Bad lines are warnings (FILE:LINE: message on stderr); --strict makes any of them fatal (exit 1,
// nothing written). A long recording shows a progress bar on a terminal (src/cli/progress.ts).

import { basename, extname } from 'node:path';
import { createInterface } from 'node:readline';
import { TraceBuilder } from '../../trace/builder.js';
import { pushImported } from '../../trace/import/build.js';
import { mergeStreamsByTime } from '../../trace/import/merge.js';
import { ImportOutput } from '../../trace/import/output.js';
import { formatWarnings, importMeta, type ImportedRow, type ImportWarning, type LineImporter } from '../../trace/import/result.js';
import { createStraceImporter, type StraceImport, type StraceVm } from '../../trace/import/strace.js';
import { createTracecmdImporter, lineArch, type TraceArch, type TracecmdImport } from '../../trace/import/tracecmd.js';
import type { TraceChunk } from '../../trace/schema.js';
import { openInput, traceKind, writeTrace } from '../../trace/io.js';
import { DEFAULT_PROFILE_NAME } from '../../core/profile.js';
import { InputError, UsageError } from '../../errors.js';
import { LateProgress } from '../progress.js';

export interface StraceCliOptions {
  out: string;
  vm?: string;
  strict: boolean;
  faults?: string;
  faultsOffset: string;
  quiet: boolean;
}

export interface TracecmdCliOptions {
  out: string;
  vendor: 'auto' | 'intel' | 'amd';
  strict: boolean;
  expectLevels: boolean;
  quiet: boolean;
}

/**
 * Feeds `file` to `importer` line by line (recordings of long runs do not fit in one string), pausing
 * after every few thousand lines so that a streaming consumer can hand on what those made.
 */
async function* feedLines(file: string, importer: { feed(line: string): void }): AsyncGenerator<void> {
  const handle = await openInput(file);
  const input = handle.createReadStream({ encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  const progress = new LateProgress((await handle.stat()).size, { label: `import ${basename(file)}` });
  let n = 0;
  try {
    for await (const line of lines) {
      importer.feed(line);
      if ((++n & 0xfff) === 0) {
        progress.update(input.bytesRead);
        yield;
      }
    }
  } finally {
    progress.stop();
    lines.close();
    await handle.close();
  }
}

function parseFd(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--vm takes a file descriptor number, not '${text}'`);
  return n;
}

/** OUT for one VM, OUT-stem.vmFD[-GEN].ext for one of several. */
export function vmOutputPath(out: string, vm: StraceVm, several: boolean): string {
  if (!several) return out;
  const ext = extname(out);
  return `${out.slice(0, out.length - ext.length)}.vm${vm.fd}${vm.generation > 1 ? `-${vm.generation}` : ''}${ext}`;
}

function report(file: string, warnings: ImportWarning[], strict: boolean): void {
  if (warnings.length === 0) return;
  process.stderr.write(formatWarnings(file, warnings));
  if (strict) throw new InputError(`${file}: ${warnings.length} line(s) could not be imported (--strict)`);
}

/**
 * `import strace`, streamed: each VM's rows go to its own output as the recording is read (one file
 * per VM, opened when the VM is found), and with --faults the two recordings are merged as both are
 * read. Outputs stay temporary until the end: only then is it known whether there were several VMs
 * (which names the files) and whether --strict rejects the import.
 */
export async function importStraceCommand(file: string, opts: StraceCliOptions): Promise<number> {
  traceKind(opts.out);
  const vmFd = opts.vm === undefined ? undefined : parseFd(opts.vm);
  const offset = Number(opts.faultsOffset);
  if (!Number.isFinite(offset)) throw new UsageError(`--faults-offset takes seconds, not '${opts.faultsOffset}'`);
  const faultsFile = opts.faults;
  // strace cannot tell the architecture; a fault recording can (kvm_guest_fault is arm64's).
  const arch = (faultsFile === undefined ? undefined : await firstArch(faultsFile)) ?? 'x86_64';
  const outputs = new Map<StraceVm, ImportOutput>();
  const newOutput = (vm: StraceVm): void => {
    if (faultsFile !== undefined && outputs.size > 0) {
      throw new UsageError(`${file}: several VMs; pick the one the fault recording belongs to with --vm`);
    }
    const fields: Array<[string, string]> = [
      ['source', `strace importer, file ${basename(file)}, vm fd ${vm.fd}${faultsFile === undefined ? '' : `, faults ${basename(faultsFile)}`}`],
      ['arch', arch],
      ...profileFields(arch),
    ];
    outputs.set(vm, new ImportOutput(vmOutputPath(opts.out, vm, true), importMeta(fields), file));
  };
  const straceRows: Array<[StraceVm, ImportedRow]> = [];
  const strace = createStraceImporter({ ...(vmFd === undefined ? {} : { vmFd }), onVm: newOutput, onRow: (vm, r) => straceRows.push([vm, r]) });
  let imported: StraceImport | undefined;
  let faults: TracecmdImport | undefined;
  try {
    const vmRows = rowStream(file, strace, straceRows, (r) => (imported = r));
    if (faultsFile === undefined) {
      for await (const [vm, row] of vmRows) await pushRow(outputs.get(vm)!, row);
    } else {
      const faultRows: ImportedRow[] = [];
      const tracecmd = createTracecmdImporter({ onRow: (r) => faultRows.push(r) });
      const merged = mergeStreamsByTime(
        mapStream(vmRows, ([, row]) => row),
        rowStream(faultsFile, tracecmd, faultRows, (r) => (faults = r)),
        offset,
        [file, faultsFile],
      );
      // A row comes out once both recordings have one (or ended): by then strace's VM is known.
      for await (const row of merged) await pushRow(onlyOutput(outputs, file, vmFd), row);
    }
    for (const output of outputs.values()) await output.finish();
    report(file, imported!.warnings, opts.strict);
    if (faults) report(faultsFile!, faults.warnings, opts.strict);
    onlyOutput(outputs, file, vmFd); // no VM at all is an error even when no row came
    for (const output of outputs.values()) report(file, output.warnings, opts.strict);
    const several = outputs.size > 1;
    for (const [vm, output] of outputs) {
      const out = vmOutputPath(opts.out, vm, several);
      await output.commit(out);
      if (!opts.quiet) process.stderr.write(`${out}: ${output.rowCount} row(s) for VM fd ${vm.fd} (line ${vm.line})\n`);
    }
  } catch (err) {
    for (const output of outputs.values()) await output.abort();
    throw err;
  }
  const s = imported!.stats;
  if (!opts.quiet) {
    const unknown = Object.entries(s.unknownIoctls);
    process.stderr.write(
      `${file}: ${s.lines} line(s): ${s.rows} row(s), ${s.skipped} skipped (${s.otherIoctls} other KVM ioctls, ` +
        `${Object.values(s.otherSyscalls).reduce((a, b) => a + b, 0)} other syscalls, ${s.signals} signals, ${s.exits} exits), ` +
        `${s.bad} not imported\n` +
        (unknown.length > 0 ? `unknown KVM ioctls: ${unknown.map(([n, c]) => `${n} x${c}`).join(', ')}\n` : ''),
    );
  }
  return 0;
}

/** The first output (the only one with --faults); none means the recording created no VM. */
function onlyOutput(outputs: Map<StraceVm, ImportOutput>, file: string, vmFd: number | undefined): ImportOutput {
  const first = outputs.values().next();
  if (first.done) {
    throw new InputError(
      vmFd === undefined ? `${file}: no KVM_CREATE_VM in this recording (name the VM fd with --vm)` : `${file}: no VM with fd ${vmFd}`,
    );
  }
  return first.value;
}

async function pushRow(output: ImportOutput, row: ImportedRow): Promise<void> {
  output.push(row);
  if (output.hasReady) await output.write();
}

/**
 * The rows an importer hands to `queue` while `file` is fed to it, a batch of lines at a time;
 * `done` gets the importer's result once the recording has ended.
 */
async function* rowStream<T, R>(file: string, importer: LineImporter<T>, queue: R[], done: (result: T) => void): AsyncGenerator<R> {
  for await (const _ of feedLines(file, importer)) yield* queue.splice(0);
  done(importer.finish());
  yield* queue.splice(0);
}

async function* mapStream<A, B>(items: AsyncIterable<A>, f: (item: A) => B): AsyncGenerator<B> {
  for await (const item of items) yield f(item);
}

/**
 * The profile an imported trace replays under and whose answers its `ret`s are (`# recorded-under:`):
 * the recording's own architecture's (docs/trace-format.md, "Metadata keys").
 */
function profileFields(arch: string): Array<[string, string]> {
  return arch === 'arm64'
    ? [['profile', 'arm64-s2'], ['recorded-under', 'arm64-s2']]
    : [['recorded-under', DEFAULT_PROFILE_NAME]];
}

/**
 * `import tracecmd`, streamed: rows become chunks and go to the output as the recording is read, so
 * memory stays bounded however long it is. The arch (in the metadata, written first) comes from a
 * look at the recording's first fault event; warnings are reported at the end, and with --strict they
 * stop the output before it is renamed into place.
 */
export async function importTracecmdCommand(file: string, opts: TracecmdCliOptions): Promise<number> {
  traceKind(opts.out);
  const arch = (await firstArch(file)) ?? 'x86_64';
  const fields: Array<[string, string]> = [
    ['source', `trace-cmd importer, file ${basename(file)}`],
    ['arch', arch],
  ];
  fields.push(...profileFields(arch));
  const ready: TraceChunk[] = [];
  const builder = new TraceBuilder(undefined, file, (chunk) => ready.push(chunk));
  const warnings: ImportWarning[] = [];
  const importer = createTracecmdImporter({ expectLevels: opts.expectLevels, vendor: opts.vendor, onRow: (r) => pushImported(builder, r, warnings) });
  let imported: TracecmdImport | undefined;
  async function* chunks(): AsyncGenerator<TraceChunk> {
    for await (const _ of feedLines(file, importer)) while (ready.length > 0) yield ready.shift()!;
    imported = importer.finish();
    report(file, imported.warnings, opts.strict);
    report(file, warnings, opts.strict);
    builder.finish();
    while (ready.length > 0) yield ready.shift()!;
  }
  await writeTrace(opts.out, importMeta(fields), chunks());
  if (!opts.quiet) {
    const s = imported!.stats;
    process.stderr.write(
      `${opts.out}: ${s.rows - warnings.length} row(s) from ${s.lines} line(s); ${s.skipped} skipped, ${s.bad} not imported` +
        (imported!.arch === 'x86_64' ? `; error codes read as ${s.vendor === 'intel' ? 'EPT exit qualifications' : 'PFERR bits'}\n` : '\n') +
        (Object.keys(s.setSpteLevels).length > 0 ? `kvm_mmu_set_spte by level: ${JSON.stringify(s.setSpteLevels)}\n` : ''),
    );
  }
  return 0;
}

/** The arch of a trace-cmd recording's first well-formed fault event, reading no further than it. */
async function firstArch(file: string): Promise<TraceArch | undefined> {
  const handle = await openInput(file);
  const lines = createInterface({ input: handle.createReadStream({ encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      const arch = lineArch(line);
      if (arch !== undefined) return arch;
    }
    return undefined;
  } finally {
    lines.close();
    await handle.close();
  }
}
