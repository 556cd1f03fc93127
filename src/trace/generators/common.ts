// What every generator shares: its option descriptors (for the CLI and for validation), the generated
// trace, and the metadata lines naming the generator and its options so a trace can be regenerated.

import type { ChunkOptions } from '../chunk.js';
import { DEFAULT_PROFILE_NAME } from '../../core/profile.js';
import { rowAt, type TraceRow } from '../row.js';
import { TRACE_MAGIC_LINE, type TraceChunk, type TraceMeta } from '../schema.js';
import { RowWriter } from './writer.js';

/**
 * A generated trace. The generators whose length grows with their options write chunks (writtenTrace)
 * so that `gen` holds a few chunks at a time; small ones give an array of rows.
 */
export interface GeneratedTrace<Rows extends Iterable<TraceRow> = Iterable<TraceRow>> {
  meta: TraceMeta;
  rows: Rows;
  /**
   * The same trace as chunks built straight from columns, for generators of very long traces: what
   * `gen` writes when given (the rows then are a slow view of the same chunks, for tests).
   */
  chunks?: (options?: ChunkOptions) => Iterable<TraceChunk>;
}

/**
 * A trace its generator writes straight into chunks (src/trace/generators/writer.ts), each pass anew:
 * `chunks` is what `gen` writes; `rows` is a slow view of the same chunks, for tests (fields read back
 * as from a file: a memslot's flags as a number, addresses as bigints).
 */
export function writtenTrace(meta: TraceMeta, file: string, write: (w: RowWriter) => Generator<TraceChunk>): GeneratedTrace {
  const chunks = (options?: ChunkOptions): Iterable<TraceChunk> => write(new RowWriter(file, options?.reuse === true));
  const rows = {
    *[Symbol.iterator](): Generator<TraceRow> {
      for (const chunk of chunks()) for (let i = 0; i < chunk.length; i++) yield rowAt(chunk, i);
    },
  };
  return { meta, rows, chunks };
}

/** One option of a generator, as the CLI and the validator see it. */
export interface GeneratorOption {
  /** camelCase; the CLI spells it --kebab-case. */
  name: string;
  description: string;
  default: number | boolean | string;
  kind: 'int' | 'number' | 'bool' | 'choice';
  min?: number;
  max?: number;
  choices?: readonly string[];
}

// A generator declares its options once, as an object of specs made by int/num/bool/choice below: the
// CLI flags and help, the defaults, the validation and the TypeScript type of its options all come
// from that one object (OptionValues<typeof SPECS>).

export interface NumberSpec {
  readonly kind: 'int' | 'number';
  readonly default: number;
  readonly description: string;
  readonly min?: number;
  readonly max?: number;
}
export interface BoolSpec {
  readonly kind: 'bool';
  readonly default: boolean;
  readonly description: string;
}
export interface ChoiceSpec<C extends string> {
  readonly kind: 'choice';
  readonly default: C;
  readonly description: string;
  readonly choices: readonly C[];
}
export type OptionSpec = NumberSpec | BoolSpec | ChoiceSpec<string>;
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** The option values a generator receives, typed from its specs. */
export type OptionValues<S extends OptionSpecs> = {
  -readonly [K in keyof S]: S[K] extends ChoiceSpec<infer C> ? C : S[K] extends BoolSpec ? boolean : number;
};

export function int(defaultValue: number, description: string, bounds: { min?: number; max?: number } = {}): NumberSpec {
  return { kind: 'int', default: defaultValue, description, ...bounds };
}
export function num(defaultValue: number, description: string, bounds: { min?: number; max?: number } = {}): NumberSpec {
  return { kind: 'number', default: defaultValue, description, ...bounds };
}
export function bool(defaultValue: boolean, description: string): BoolSpec {
  return { kind: 'bool', default: defaultValue, description };
}
export function choice<const C extends string>(choices: readonly C[], defaultValue: NoInfer<C>, description: string): ChoiceSpec<C> {
  return { kind: 'choice', default: defaultValue, description, choices };
}

/** The specs as a list for the CLI and checkValues, in declaration order. */
export function optionList(specs: OptionSpecs): GeneratorOption[] {
  return Object.entries(specs).map(([name, spec]) => ({ name, ...spec }));
}

/** Every option at its default. */
export function defaultsOf<S extends OptionSpecs>(specs: S): OptionValues<S> {
  return Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, spec.default])) as OptionValues<S>;
}

export type GeneratorValues = Record<string, number | boolean | string>;

/**
 * `# source: s2bench gen NAME k=v ...` and `# arch:` (aarch64 for an arm64 profile, else x86_64), plus
 * the profile when not the default, and `# recorded-under:` the profile whose answers the generated
 * `ret`s are (docs/trace-format.md, "ret").
 */
export function genMeta(name: string, options: object, profile?: string): TraceMeta {
  const text = `s2bench gen ${name} ${Object.entries(options)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ')}`;
  const arch = profile?.startsWith('arm64') ? 'aarch64' : 'x86_64';
  const fields: Record<string, string> = { source: text, arch };
  const comments = [TRACE_MAGIC_LINE, `# source: ${text}`, `# arch: ${arch}`];
  if (profile !== undefined) {
    fields['profile'] = profile;
    comments.push(`# profile: ${profile}`);
  }
  return withRecordedUnder({ comments, fields }, profile ?? DEFAULT_PROFILE_NAME);
}

/** `meta` with `# recorded-under: PROFILE` added: the profile whose answers the trace's `ret`s are. */
export function withRecordedUnder(meta: TraceMeta, profile: string): TraceMeta {
  return {
    ...meta,
    comments: [...meta.comments, `# recorded-under: ${profile}`],
    fields: { ...meta.fields, 'recorded-under': profile },
  };
}

/** Option values checked against their descriptors; throws RangeError naming the option. */
export function checkValues(generator: string, options: readonly GeneratorOption[], values: GeneratorValues): GeneratorValues {
  const out: GeneratorValues = {};
  for (const opt of options) {
    const v = values[opt.name] ?? opt.default;
    if (opt.kind === 'int' || opt.kind === 'number') {
      if (typeof v !== 'number' || !Number.isFinite(v) || (opt.kind === 'int' && !Number.isSafeInteger(v))) {
        throw new RangeError(`${generator}: ${opt.name} must be ${opt.kind === 'int' ? 'an integer' : 'a number'} (got ${String(v)})`);
      }
      if (opt.min !== undefined && v < opt.min) throw new RangeError(`${generator}: ${opt.name} must be >= ${opt.min} (got ${v})`);
      if (opt.max !== undefined && v > opt.max) throw new RangeError(`${generator}: ${opt.name} must be <= ${opt.max} (got ${v})`);
    } else if (opt.kind === 'bool' && typeof v !== 'boolean') {
      throw new RangeError(`${generator}: ${opt.name} must be true or false (got ${String(v)})`);
    } else if (opt.kind === 'choice' && !(opt.choices ?? []).includes(String(v))) {
      throw new RangeError(`${generator}: ${opt.name} must be one of ${(opt.choices ?? []).join(', ')} (got ${String(v)})`);
    }
    out[opt.name] = v;
  }
  for (const key of Object.keys(values)) {
    if (!options.some((o) => o.name === key)) throw new RangeError(`${generator}: unknown option ${key}`);
  }
  return out;
}

/**
 * A generator's options from a library caller: `options` over the specs' defaults, checked against
 * the specs as the CLI's are (checkValues); a rule between options is the generator's own.
 */
export function checkedOptions<S extends OptionSpecs>(generator: string, specs: S, options: Partial<OptionValues<S>>): OptionValues<S> {
  return checkValues(generator, optionList(specs), { ...defaultsOf(specs), ...options } as GeneratorValues) as OptionValues<S>;
}

// The guest layout every generator shares, so traces of different generators line up.
/** A 4 KiB page as a bigint, for gpa/hva arithmetic. */
export const PAGE_BYTES = 4096n;
/** Where the VMM's mmap of guest RAM starts (a typical x86-64 user address). */
export const GUEST_RAM_HVA = 0x7f0000000000n;
