// A suite is traces x profiles x repeats. This module finds the traces, decides which profiles each one
// runs under, and lays the jobs out in a fixed order, so a run's job list never depends on timing.

import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, extname, join, relative, sep } from 'node:path';
import picomatch from 'picomatch';
import { DEFAULT_PROFILE_NAME, parseProfile, type Arch, type Profile } from '../core/profile.js';
import { ProfileError, UsageError } from '../errors.js';

export const TRACE_EXTENSIONS = ['.csv', '.s2t'] as const;

export interface SuiteTrace {
  /** Path relative to the input directory, without extension, `/`-separated (e.g. `boot/qemu-512m`). */
  name: string;
  path: string;
}

/** A trace's own profile that does not parse: its jobs fail with `error`, and the suite runs on. */
export interface UnparsableProfile {
  /** As the trace wrote it. */
  readonly name: string;
  readonly error: string;
}

export interface Job {
  /** Position in the suite's job list: stable for the same inputs and options. */
  index: number;
  trace: string;
  tracePath: string;
  /** Parsed once, when the suite was planned; the job and its Vm use this object. */
  profile: Profile | UnparsableProfile;
  repeat: number;
}

function isTraceFile(path: string): boolean {
  return (TRACE_EXTENSIONS as readonly string[]).includes(extname(path));
}

function traceName(root: string, path: string): string {
  const rel = relative(root, path);
  return rel.slice(0, rel.length - extname(rel).length).split(sep).join('/');
}

/**
 * Trace files under `dir`, in name order. Symbolic links are followed (a suite is often assembled
 * from links); a broken link to a trace is kept, so its jobs fail with the reader's message instead of
 * the trace vanishing from the suite; a link back up the tree is walked once.
 */
async function walk(dir: string, out: string[], seen = new Set<string>()): Promise<void> {
  const real = await realpath(dir);
  if (seen.has(real)) return;
  seen.add(real);
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const target = entry.isSymbolicLink() ? await stat(path).catch(() => undefined) : entry;
    if (target?.isDirectory()) await walk(path, out, seen);
    else if ((target === undefined || target.isFile()) && isTraceFile(path)) out.push(path);
  }
}

/**
 * The traces named by `inputs` (files, or directories searched recursively), sorted by name, keeping
 * those whose name or path matches `filter` (a glob) when one is given.
 */
export async function discoverTraces(inputs: string[], filter?: string): Promise<SuiteTrace[]> {
  const found = new Map<string, SuiteTrace>();
  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (info === undefined) throw new UsageError(`no such trace file or directory: ${input}`);
    if (info.isDirectory()) {
      const paths: string[] = [];
      await walk(input, paths);
      for (const path of paths) found.set(path, { name: traceName(input, path), path });
    } else {
      if (!isTraceFile(input)) {
        throw new UsageError(`${input}: not a trace (expected ${TRACE_EXTENSIONS.join(' or ')})`);
      }
      const ext = extname(input);
      found.set(input, { name: basename(input, ext), path: input });
    }
  }
  let traces = [...found.values()];
  if (filter !== undefined) {
    const matches = picomatch(filter, { dot: true });
    traces = traces.filter((t) => matches(t.name) || matches(t.path) || matches(basename(t.path)));
  }
  traces.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.path < b.path ? -1 : 1));
  const names = new Set<string>();
  for (const t of traces) {
    if (names.has(t.name)) throw new UsageError(`two traces are both named '${t.name}' (e.g. a .csv and a .s2t): keep one`);
    names.add(t.name);
  }
  return traces;
}

/**
 * Profiles a trace runs under: those given on the command line (parsed there), else the trace's own
 * `# profiles:` (`;`-separated, since a profile contains commas) or `# profile:` metadata, else the
 * default. One of the trace's that does not parse, or any whose architecture is not the trace's
 * `# arch:` (an x86 trace's answers mean nothing on arm64), is kept as an UnparsableProfile, so its
 * jobs fail with that message while the rest of the suite runs. `archAt` says where the `# arch:` line
 * is (e.g. `line 3, field arch`). Distinct by canonical name, in order.
 */
export function profilesFor(
  meta: Record<string, string>,
  cliProfiles: readonly Profile[],
  archAt = 'field arch',
): Array<Profile | UnparsableProfile> {
  const profiles =
    cliProfiles.length > 0
      ? cliProfiles
      : (meta['profiles'] !== undefined
          ? meta['profiles'].split(';').map((p) => p.trim()).filter((p) => p !== '')
          : meta['profile'] !== undefined
            ? [meta['profile']]
            : [DEFAULT_PROFILE_NAME]
        ).map(parseOrKeep);
  const byName = new Map(profiles.map((p) => [p.name, archChecked(p, meta['arch'], archAt)]));
  return [...byName.values()];
}

/** `x86_64` / `aarch64` (or `arm64`, as importers spell it) of a trace's `# arch:`, to a profile arch. */
const ARCH_OF_MACHINE: Record<string, Arch> = { x86_64: 'x86-tdp', aarch64: 'arm64-s2', arm64: 'arm64-s2' };

/** `profile`, or an UnparsableProfile when it models another architecture than the trace's `# arch: machine`. */
function archChecked(profile: Profile | UnparsableProfile, machine: string | undefined, archAt: string): Profile | UnparsableProfile {
  const arch = machine === undefined ? undefined : ARCH_OF_MACHINE[machine];
  if ('error' in profile || arch === undefined || profile.arch === arch) return profile;
  return {
    name: profile.name,
    error: `profile '${profile.name}' models ${profile.arch}, but the trace is '# arch: ${machine}' (${archAt}): give an ${arch} profile`,
  };
}

/**
 * `line N, field KEY` of a CSV trace's `# KEY:` metadata line (its place among the lines before the
 * header); for an .s2t trace, whose metadata is the header's JSON, `record 0, field metadata.fields.KEY`
 * as the .s2t reader names it (src/trace/s2t-json.ts).
 */
export function metadataLine(comments: readonly string[], key: string, path = ''): string {
  if (extname(path).toLowerCase() === '.s2t') return `record 0, field metadata.fields.${key}`;
  const index = comments.findIndex((c) => new RegExp(`^#\\s*${key}:`).test(c));
  return index < 0 ? `field ${key}` : `line ${index + 1}, field ${key}`;
}

function parseOrKeep(text: string): Profile | UnparsableProfile {
  try {
    return parseProfile(text);
  } catch (err) {
    if (err instanceof ProfileError) return { name: text, error: err.message };
    throw err;
  }
}

/** Jobs in a fixed order: trace, then profile, then repeat. */
export function planJobs(
  traces: ReadonlyArray<SuiteTrace & { profiles: ReadonlyArray<Profile | UnparsableProfile> }>,
  repeat: number,
): Job[] {
  const jobs: Job[] = [];
  for (const t of traces) {
    for (const profile of t.profiles) {
      for (let r = 0; r < repeat; r++) {
        jobs.push({ index: jobs.length, trace: t.name, tracePath: t.path, profile, repeat: r });
      }
    }
  }
  return jobs;
}

/**
 * `--shard i/n` across CI runners: runner i keeps every trace whose position in the sorted list is
 * i modulo n, so the shards are disjoint, cover the suite, and `merge` can join them.
 */
export function parseSuiteShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard takes i/n with 1 <= i <= n (e.g. 2/4), not '${text}'`);
  }
  return { index: index - 1, count };
}

export function selectShard<T>(traces: T[], shard: { index: number; count: number }): T[] {
  return traces.filter((_, i) => i % shard.count === shard.index);
}
