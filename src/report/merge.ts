// `s2bench merge`: join the result sets of one suite run in shards on several CI runners
// (`run --shard i/n`) into one run directory, as if one machine had run it all.

import { RunDirError } from '../errors.js';
import { groupKey } from './groups.js';
import { readRunDir, type LoadedRun } from './run-dir.js';
import { readSeriesFile, type SeriesByGroup } from './series.js';
import type { JobResult, RunInfo } from './types.js';

/** A shard's run directory with its series.csv (empty for a run made before series existed). */
export interface MergePart extends LoadedRun {
  series?: SeriesByGroup;
}

export async function readMergePart(dir: string): Promise<MergePart> {
  return { ...(await readRunDir(dir)), series: await readSeriesFile(dir) };
}

export interface MergedRun {
  info: RunInfo;
  jobs: JobResult[];
  /** Differences between the parts worth telling (other code or machine): merged all the same. */
  warnings: string[];
}

export function mergeRuns(parts: readonly MergePart[], runId: string): MergedRun {
  if (parts.length === 0) throw new RunDirError('merge needs at least one results directory');
  const owner = new Map<string, string>();
  for (const part of parts) {
    for (const job of part.jobs) {
      const key = `${job.trace} [${job.profile}]`;
      const seen = owner.get(key);
      if (seen !== undefined && seen !== part.dir) {
        throw new RunDirError(`${key} is in both ${seen} and ${part.dir}: shards of one suite never share a trace`);
      }
      owner.set(key, part.dir);
    }
  }
  const first = parts[0]!.info;
  const warnings: string[] = [];
  for (const part of parts.slice(1)) {
    if (part.info.gitCommit !== first.gitCommit) warnings.push(`${part.dir} ran commit ${part.info.gitCommit}, ${parts[0]!.dir} ran ${first.gitCommit}`);
    if (part.info.host.cpuModel !== first.host.cpuModel) warnings.push(`${part.dir} ran on ${part.info.host.cpuModel}, ${parts[0]!.dir} on ${first.host.cpuModel}: timings are not comparable across parts`);
  }
  const incomplete = parts.filter((p) => p.info.complete === false);
  for (const part of incomplete) warnings.push(`${part.dir} is an incomplete run: only its finished jobs are merged, and the merged run is marked incomplete`);
  const traces = parts.flatMap((p) => p.info.traces);
  // Each job takes its trace x profile's series from its own part, so the merged series.csv joins the parts'.
  const jobs = parts.flatMap((p) =>
    p.jobs.map((job) => {
      const series = p.series?.get(groupKey(job.trace, job.profile));
      return series === undefined ? job : { ...job, series };
    }),
  );
  // Each part's pool ran on its own machine: their utilizations do not add up to one figure.
  const { pool: _pool, ...firstWithoutPool } = first;
  const info: RunInfo = {
    ...firstWithoutPool,
    runId,
    ...(incomplete.length > 0 ? { complete: false } : {}),
    options: { merged: parts.map((p) => ({ dir: p.dir, runId: p.info.runId, options: p.info.options })) },
    startedAt: parts.map((p) => p.info.startedAt).sort()[0]!,
    finishedAt: parts.map((p) => p.info.finishedAt).sort().at(-1)!,
    traces: [...new Map(traces.map((t) => [t.name, t])).values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
    jobs: parts.flatMap((p) => p.info.jobs),
  };
  return { info, jobs, warnings };
}
