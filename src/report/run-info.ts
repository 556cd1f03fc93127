// run.json's content: what ran, where, with which code and on which inputs, so that two runs can be
// told apart (and a comparison between them trusted or not).

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { arch, cpus, hostname, platform, release } from 'node:os';
import { packageRoot, packageVersion } from '../package-info.js';
import { sortJobs } from './results.js';
import type { HostInfo, JobInfo, JobResult, RunInfo, TraceInfo } from './types.js';

export interface RunInfoInput {
  runId: string;
  startedAt: Date;
  finishedAt: Date;
  /** The suite's options as given; functions and undefined values are dropped. */
  options: object;
  traces: ReadonlyArray<{ name: string; path: string }>;
  results: readonly JobResult[];
}

export async function collectRunInfo(input: RunInfoInput): Promise<RunInfo> {
  const [gitCommit, traces] = await Promise.all([
    gitDescribe(packageRoot()),
    Promise.all(input.traces.map((t) => describeTrace(t, input.results))),
  ]);
  return {
    format: 1,
    runId: input.runId,
    s2benchVersion: packageVersion(),
    gitCommit,
    host: hostInfo(),
    options: toJsonObject(input.options),
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    traces,
    jobs: jobInfos(input.results),
  };
}

export function hostInfo(): HostInfo {
  const cpu = cpus();
  return {
    node: process.version,
    os: `${platform()} ${release()}`,
    arch: arch(),
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    hostname: hostname(),
  };
}

export function jobInfos(results: readonly JobResult[]): JobInfo[] {
  return sortJobs(results).map((r) => ({
    trace: r.trace,
    profile: r.profile,
    repeat: r.repeat,
    status: r.status,
    ...(r.error !== undefined ? { error: r.error } : {}),
    divergences: r.divergences,
  }));
}

async function describeTrace(t: { name: string; path: string }, results: readonly JobResult[]): Promise<TraceInfo> {
  const events = results.find((r) => r.trace === t.name && r.status === 'ok' && r.modeled['events'] !== undefined)?.modeled['events'];
  let bytes: number | null = null;
  let sha256: string | null = null;
  try {
    bytes = (await stat(t.path)).size;
    sha256 = await hashFile(t.path);
  } catch {
    // An unreadable trace already failed its jobs with the reader's message; run.json just says unknown.
  }
  return { name: t.name, path: t.path, events: events ?? null, bytes, sha256 };
}

export function hashFile(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}

function git(cwd: string, args: string[]): Promise<string | null> {
  return new Promise((resolvePromise) => {
    execFile('git', args, { cwd, timeout: 5000 }, (err, stdout) => resolvePromise(err ? null : stdout.trim()));
  });
}

/** HEAD of the checkout s2bench runs from, `-dirty` when it has uncommitted changes; null outside git. */
export async function gitDescribe(cwd: string): Promise<string | null> {
  const head = await git(cwd, ['rev-parse', 'HEAD']);
  if (!head) return null;
  const status = await git(cwd, ['status', '--porcelain', '--untracked-files=no']);
  return status ? `${head}-dirty` : head;
}

function toJsonObject(value: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as Record<string, unknown>;
}
