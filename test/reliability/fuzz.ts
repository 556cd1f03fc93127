// A seeded mutator over the shipped traces, and the checks every mutated trace must pass through the
// command line (issue 18): exit code 0, 1 or 2 only; no internal error and no stack trace; every
// problem names the file and a line or record; bounded time and memory. The same seed gives the same
// cases, so a failure reproduces with its seed and case number.

import { readdir, readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { parseTraceText, writeTrace } from '../../src/trace/io.js';
import { OPS } from '../../src/trace/schema.js';
import { runCliInProcess, type CliResult } from '../helpers/cli.js';
import { repoPath } from '../helpers/paths.js';
import { metaJsonOf, withMetaJson, withSideJson } from './s2t-bytes.js';

type Rng = ReturnType<typeof xoroshiro128plus>;

/** Lines of each shipped trace kept as a seed: enough for every op, small enough to replay at once. */
const SEED_LINES = 120;
/** Replay is bounded by the reader too: a mutation cannot make a case hold more than this. */
const MAX_EVENTS = '100000';

export interface SeedTrace {
  name: string;
  text: string;
}

export async function shippedSeeds(): Promise<SeedTrace[]> {
  const root = repoPath('traces');
  const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.csv')).sort();
  const seeds: SeedTrace[] = [];
  for (const file of files) {
    const lines = (await readFile(join(root, file), 'utf8')).split('\n').slice(0, SEED_LINES);
    seeds.push({ name: relative(root, join(root, file)), text: lines.join('\n') + '\n' });
  }
  return seeds;
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[uniformInt(rng, 0, items.length - 1)]!;
}

/** Characters that break CSV, numbers and terminals (no digits: a digit could make a valid but huge sweep). */
const HOSTILE_CHARS = ['"', ',', '\n', '\r', '#', ' ', 'x', '\u0000', '\u202e', '|', '-', 'é', '\t'];
/** Values for a whole cell: edge numbers, overflows, bounds, and text that is not a number. */
const HOSTILE_CELLS = [
  '', '0', '1', '-1', '0x1000', '0xfffffffffffff', '0xffffffffffffffff', '18446744073709551616', '0x10000000000',
  '1e3', ' 1', '0x', 'NaN', '"0x1000"', '"a,b"', '" 0"', '=cmd()', '-EINVAL', 'ok', 'log|ro', 'private', '\u202eevil',
];

function mutateLine(rng: Rng, line: string): string {
  const cells = line.split(',');
  switch (uniformInt(rng, 0, 3)) {
    case 0:
      cells[uniformInt(rng, 0, cells.length - 1)] = pick(rng, HOSTILE_CELLS);
      break;
    case 1:
      cells[0] = pick(rng, [...OPS, 'frobnicate', '#', '']);
      break;
    case 2:
      cells.splice(uniformInt(rng, 0, cells.length), 0, pick(rng, HOSTILE_CELLS));
      break;
    default:
      cells.splice(uniformInt(rng, 0, cells.length - 1), 1);
  }
  return cells.join(',');
}

/** One to three mutations of CSV text: characters, cells, whole lines, the header, truncation. */
export function mutateCsv(rng: Rng, text: string): string {
  const count = uniformInt(rng, 1, 3);
  for (let m = 0; m < count; m++) {
    const lines = text.split('\n');
    const at = uniformInt(rng, 0, Math.max(0, lines.length - 2));
    switch (uniformInt(rng, 0, 7)) {
      case 0: {
        const pos = uniformInt(rng, 0, text.length);
        text = text.slice(0, pos) + pick(rng, HOSTILE_CHARS) + text.slice(pos);
        continue;
      }
      case 1: {
        const pos = uniformInt(rng, 0, Math.max(0, text.length - 1));
        text = text.slice(0, pos) + text.slice(pos + 1);
        continue;
      }
      case 2:
      case 3:
        lines[at] = mutateLine(rng, lines[at]!);
        break;
      case 4:
        lines.splice(at, 0, lines[uniformInt(rng, 0, lines.length - 1)]!);
        break;
      case 5:
        lines.splice(at, 1);
        break;
      case 6:
        text = text.slice(0, uniformInt(rng, 0, text.length));
        continue;
      default:
        lines[at] = pick(rng, ['# s2bench trace v2', '# profile: arm64-s2,bogus=1', '# profile: x86-tdp', 'op,vcpu,gpa', '"', '#'.repeat(3)]);
    }
    text = lines.join('\n');
  }
  return text;
}

/** JSON values of the wrong shape for the .s2t metadata and side tables. */
const HOSTILE_JSON = [
  '{', 'null', '[]', '7', '"x"', '{"comments":null}', '{"comments":[1]}', '{"comments":["no hash"]}', '{"fields":{"profile":1}}',
  '{"fields":[]}', '{"n":"x"}', '{"n":[null]}', '{"v":[[1e12,"0x1"]]}', '{"v":[[17]]}', '{"v":{"a":1}}', '{"c":[[0]]}',
  '{"c":[["0","# x"]]}', '{"c":[[-5,"# x"]]}', '{"v":[[17,"a\\nb"]]}', '{}',
];

/** An .s2t mutation: bytes flipped or cut, or its JSON replaced with checksums fixed. */
export function mutateS2t(rng: Rng, bytes: Buffer): Buffer {
  switch (uniformInt(rng, 0, 4)) {
    case 0: {
      const out = Buffer.from(bytes);
      for (let k = uniformInt(rng, 1, 4); k > 0; k--) out[uniformInt(rng, 0, out.length - 1)] = uniformInt(rng, 0, 255);
      return out;
    }
    case 1:
      return bytes.subarray(0, uniformInt(rng, 0, bytes.length));
    case 2:
      return withMetaJson(bytes, pick(rng, HOSTILE_JSON));
    case 3: {
      // A shape that is right but with values that are not: the meta's own text, lightly mutated.
      return withMetaJson(bytes, mutateCsv(rng, metaJsonOf(bytes)).replace(/\n/g, ''));
    }
    default:
      return withSideJson(bytes, pick(rng, HOSTILE_JSON));
  }
}

export interface FuzzFailure {
  seed: number;
  index: number;
  file: string;
  command: string;
  why: string;
  output: string;
}

/** What one command did wrong with one input, or undefined. */
export function judge(run: CliResult, file: string): string | undefined {
  const all = run.stdout + run.stderr;
  if (![0, 1, 2].includes(run.code)) return `exit code ${run.code}`;
  if (/internal error/.test(all)) return 'internal error';
  if (/\n\s+at .+:\d+:\d+\)?/.test(all)) return 'stack trace';
  // Problems go to stderr, or to stdout for validate (which then exits non-zero).
  const problems = run.code === 0 ? run.stderr : all;
  for (const line of problems.split('\n')) {
    if (!line.includes(file)) continue;
    const problem = line.replace(/^s2bench: /, '');
    if (!problem.startsWith(`${file}: `)) continue;
    // Every problem with the file names a line or record, except the few about the whole file.
    if (!/^: (line|record) \d+/.test(problem.slice(file.length)) && !/: (more than \d+ events|no such file|is a directory|permission denied)/.test(problem)) {
      return `error without line or record: ${problem.slice(0, 200)}`;
    }
  }
  return undefined;
}

export interface FuzzOptions {
  seed: number;
  cases: number;
  /** A case taking longer than this (all its commands) is a failure. */
  maxCaseMs: number;
  /** Resident memory above this after a case is a failure. */
  maxRssBytes: number;
  onProgress?: (done: number) => void;
  /** Each failure as it is found (a long run shows them before it ends). */
  onFailure?: (failure: FuzzFailure) => void;
}

/**
 * Runs `cases` mutated traces through validate, info, replay and convert, in-process. Returns the
 * failures (empty when every case held).
 */
export async function fuzz(options: FuzzOptions): Promise<FuzzFailure[]> {
  const rng = xoroshiro128plus(options.seed);
  const seeds = await shippedSeeds();
  const dir = await mkdtemp(join(tmpdir(), 's2bench-fuzz-'));
  const s2tSeeds: Buffer[] = [];
  for (const seed of seeds) {
    const path = join(dir, 'seed.s2t');
    const { meta, chunks } = await parseTraceText(seed.text, seed.name);
    await writeTrace(path, meta, chunks);
    s2tSeeds.push(await readFile(path));
  }
  const failures: FuzzFailure[] = [];
  const fail = (failure: FuzzFailure): void => {
    failures.push(failure);
    options.onFailure?.(failure);
  };
  try {
    for (let index = 0; index < options.cases; index++) {
      const k = uniformInt(rng, 0, seeds.length - 1);
      // About 60% CSV, 40% .s2t, as the damaged traces one meets.
      const csv = uniformInt(rng, 0, 9) < 6;
      const file = join(dir, `case-${index}.${csv ? 'csv' : 's2t'}`);
      await writeFile(file, csv ? mutateCsv(rng, seeds[k]!.text) : mutateS2t(rng, s2tSeeds[k]!));
      const other = join(dir, `case-${index}.${csv ? 's2t' : 'csv'}`);
      const start = performance.now();
      for (const args of [['validate', file], ['info', file], ['replay', file, '--max-events', MAX_EVENTS], ['convert', file, other]]) {
        const run = await runCliInProcess(args);
        const why = judge(run, file);
        if (why !== undefined) fail({ seed: options.seed, index, file, command: args[0]!, why, output: (run.stdout + run.stderr).slice(0, 2000) });
      }
      const ms = performance.now() - start;
      if (ms > options.maxCaseMs) fail({ seed: options.seed, index, file, command: 'all', why: `took ${ms.toFixed(0)} ms`, output: '' });
      const rss = process.memoryUsage().rss;
      if (rss > options.maxRssBytes) fail({ seed: options.seed, index, file, command: 'all', why: `resident memory ${(rss / 2 ** 20).toFixed(0)} MiB`, output: '' });
      // Keep a failing case's files to look at; drop the rest as we go.
      if (!failures.some((f) => f.index === index)) await Promise.all([rm(file, { force: true }), rm(other, { force: true })]);
      options.onProgress?.(index + 1);
    }
  } finally {
    if (failures.length === 0) await rm(dir, { recursive: true, force: true });
  }
  return failures;
}
