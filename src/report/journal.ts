// A run's output directory while the run goes on. The run writes into a staging directory beside its
// target (`<out>.incomplete`), and each finished job's results are appended to results.csv and synced
// before run.json (marked incomplete) is rewritten to list the job (jobs that finish while a write is
// in flight share the next one). A run that dies (out of memory, killed, a hang the user gave up on)
// so leaves every finished job's figures and a run.json that says the run is partial; `report`
// renders such a directory and `compare` refuses it unless told.
// At the end the full files are written (writeRun) and the staging directory is renamed into place,
// so the target never holds a mix of two runs (a torn reuse once left a new run.json beside an old
// results.csv).

import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { RUN_FILES } from './files.js';
import { formatResultsCsv, resultRows } from './results.js';
import { jobInfos } from './run-info.js';
import type { JobResult, RunInfo } from './types.js';

/** Where a run writes until it has finished. */
export function stagingDir(target: string): string {
  return join(dirname(target), `${basename(target)}.incomplete`);
}

async function isNonEmptyDir(path: string): Promise<boolean | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) return undefined;
  if (!info.isDirectory()) throw new UsageError(`${path} exists and is not a directory`);
  return (await readdir(path)).length > 0;
}

export class RunJournal {
  private readonly results: JobResult[] = [];
  /** Appends and run.json rewrites, one at a time and in order. */
  private queue: Promise<void> = Promise.resolve();
  /** Results recorded but not yet written, and the write that will take them. */
  private pending: JobResult[] = [];
  private flush: Promise<void> | undefined;
  private failure: unknown;

  private constructor(
    readonly target: string,
    readonly staging: string,
    private info: RunInfo,
    private readonly csv: FileHandle,
  ) {}

  /**
   * Checks the target (a non-empty directory needs `force`), makes the staging directory and writes
   * an incomplete run.json and the results.csv header into it.
   */
  static async open(target: string, info: RunInfo, force: boolean): Promise<RunJournal> {
    if ((await isNonEmptyDir(target)) && !force) {
      throw new UsageError(`${target} exists and is not empty: choose another --out, or --force to replace it`);
    }
    const staging = stagingDir(target);
    if ((await isNonEmptyDir(staging)) !== undefined) {
      if (!force) throw new UsageError(`${staging} holds the results of a run that did not finish: look at it (s2bench report), remove it, or --force`);
      await rm(staging, { recursive: true, force: true });
    }
    try {
      await mkdir(staging, { recursive: true });
    } catch (err) {
      throw new InputError(`${staging}: cannot create the output directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    const partial: RunInfo = { ...info, complete: false, jobs: [] };
    await writeFileAtomic(join(staging, RUN_FILES.info), JSON.stringify(partial, null, 2) + '\n');
    const csv = await open(join(staging, RUN_FILES.results), 'w');
    await csv.write(formatResultsCsv([], true));
    await csv.sync();
    return new RunJournal(target, staging, partial, csv);
  }

  /**
   * Records one finished job: its rows appended and synced, then run.json listing it; resolves once
   * both are on disk. Jobs that finish while an earlier write is in flight go to disk together, in
   * one append, one sync and one run.json: a pool finishing a job every few milliseconds would
   * otherwise keep the main thread writing (and re-serialising a growing run.json) for each one.
   */
  record(result: JobResult): Promise<void> {
    this.results.push(result);
    this.pending.push(result);
    if (this.flush === undefined) {
      this.flush = this.queue.then(() => this.writePending());
      this.queue = this.flush;
    }
    return this.flush;
  }

  /** Writes every result recorded since the last write: rows first, synced, then run.json. */
  private async writePending(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.flush = undefined;
    if (this.failure !== undefined) return;
    try {
      const rows = resultRows(this.info.runId, batch);
      if (rows.length > 0) {
        await this.csv.write(formatResultsCsv(rows, false));
        await this.csv.sync();
      }
      const jobs = this.results.slice(0, this.results.length - this.pending.length);
      this.info = { ...this.info, finishedAt: new Date().toISOString(), jobs: jobInfos(jobs) };
      await writeFileAtomic(join(this.staging, RUN_FILES.info), JSON.stringify(this.info, null, 2) + '\n');
    } catch (err) {
      this.failure = err;
    }
  }

  /** Waits for every record to be on disk; throws what went wrong with any of them. */
  async close(): Promise<void> {
    await this.queue;
    await this.csv.close();
    if (this.failure !== undefined) throw this.failure;
  }

  /** Gives up before any job ran (nothing to run, a bad option): the staging directory goes. */
  async abandon(): Promise<void> {
    await this.queue;
    await this.csv.close();
    await rm(this.staging, { recursive: true, force: true });
  }

  /**
   * Puts the finished staging directory in the target's place. An existing target (only with
   * --force) is moved aside first and removed once the new one is in place.
   */
  async commit(): Promise<void> {
    const existing = await isNonEmptyDir(this.target);
    if (existing === undefined) {
      await mkdir(dirname(this.target), { recursive: true });
      await rename(this.staging, this.target);
      return;
    }
    if (!existing) {
      // rename(2) replaces an empty directory.
      await rename(this.staging, this.target);
      return;
    }
    const aside = `${this.target}.replaced-${process.pid}`;
    await rename(this.target, aside);
    await rename(this.staging, this.target);
    await rm(aside, { recursive: true, force: true });
  }
}
