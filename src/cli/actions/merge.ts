// `s2bench merge DIR... -o OUT`: one run directory from the shards of a suite run on several runners.

import { resolve } from 'node:path';
import { mergeRuns, readMergePart } from '../../report/merge.js';
import { writeRun } from '../../report/write.js';
import { RunJournal } from '../../report/journal.js';
import { newRunId } from './run-id.js';

/** `merge`: the parts joined into OUT (staged beside it, renamed into place once whole). */
export async function mergeAction(dirs: string[], opts: { out: string; force: boolean }): Promise<void> {
  // Each part's series.csv is joined too. Missing or foreign result directories, or parts that overlap, are RunDirErrors (exit 2).
  const merged = mergeRuns(await Promise.all(dirs.map((dir) => readMergePart(dir))), newRunId(new Date()));
  for (const warning of merged.warnings) process.stderr.write(`s2bench: warning: ${warning}\n`);
  const out = resolve(opts.out);
  // Like run: into a staging directory beside OUT, renamed into place once whole.
  const journal = await RunJournal.open(out, merged.info, opts.force);
  await journal.close();
  await writeRun(journal.staging, merged.info, merged.jobs);
  await journal.commit();
  process.stdout.write(`merged ${dirs.length} run(s), ${merged.jobs.length} job(s): ${out}/report.html\n`);
}
