// `s2bench gen NAME [--option value ...] -o FILE`: a synthetic trace from one of the generators, each
// modeled on a KVM selftest (its help says which). Deterministic for a given seed. A large trace shows
// a progress bar on a terminal (src/cli/progress.ts). The generators are gen's subcommands, each with
// its own options, so this module declares them too (when commands/gen.ts finds the command is gen).

import { Command, Option } from 'commander';
import { chunksOf } from '../../trace/builder.js';
import { GENERATORS, type Generator, type GeneratorValues } from '../../trace/generators/index.js';
import { traceKind, writeTrace } from '../../trace/io.js';
import type { TraceChunk } from '../../trace/schema.js';
import { UsageError } from '../../errors.js';
import { LateProgress } from '../progress.js';

/** ramMiB -> ram-mib, vcpuPages -> vcpu-pages: a unit's capitals stay one word. */
function kebab(name: string): string {
  return name
    .replace(/(Ki|Mi|Gi)B/g, (unit) => `-${unit.toLowerCase()}`)
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** `gen NAME` for every generator: declared by commands/gen.ts only when the command line is for gen. */
export function registerGenerators(gen: Command): void {
  for (const g of GENERATORS) registerOne(gen, g);
}

function registerOne(parent: Command, g: Generator): void {
  const cmd = parent.command(g.name).description(g.summary).requiredOption('-o, --out <file>', 'output trace (.csv or .s2t)');
  for (const o of g.options) {
    const flag = kebab(o.name);
    if (o.kind === 'bool') {
      cmd.addOption(new Option(`--${flag}`, `${o.description} (default ${String(o.default)})`));
      cmd.addOption(new Option(`--no-${flag}`, `turn off --${flag}`).hideHelp());
    } else {
      const opt = new Option(`--${flag} <value>`, `${o.description} (default ${String(o.default)})`);
      if (o.kind === 'choice' && o.choices) opt.choices([...o.choices]);
      cmd.addOption(opt);
    }
  }
  cmd.action(async (opts: Record<string, string | boolean>) => {
    traceKind(opts['out'] as string);
    const values: GeneratorValues = {};
    for (const o of g.options) {
      const v = opts[camel(kebab(o.name))];
      if (v === undefined) continue;
      if (o.kind === 'int' || o.kind === 'number') {
        const n = Number(v);
        if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${kebab(o.name)} takes a number, not '${String(v)}'`);
        values[o.name] = n;
      } else values[o.name] = v;
    }
    let trace;
    try {
      trace = g.generate(values);
    } catch (err) {
      if (err instanceof RangeError) throw new UsageError(err.message);
      throw err;
    }
    // Streamed: each chunk is written as soon as it fills, so memory stays flat however many rows; the
    // writer keeps nothing of a chunk it wrote, so its buffer is reused for the next.
    const chunks = trace.chunks ? trace.chunks({ reuse: true }) : chunksOf(trace.rows, `gen ${g.name}`, undefined, true);
    const progress = new LateProgress(undefined, { label: `gen ${g.name}` });
    try {
      await writeTrace(opts['out'] as string, trace.meta, counted(chunks, (written) => progress.update(written)));
    } finally {
      progress.stop();
    }
  });
}

/** The chunks, calling `done(rows so far)` after each one is taken. */
function* counted(chunks: Iterable<TraceChunk>, done: (rows: number) => void): IterableIterator<TraceChunk> {
  let rows = 0;
  for (const chunk of chunks) {
    yield chunk;
    rows += chunk.length;
    done(rows);
  }
}
