import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RunJournal } from '../../src/report/journal.js';
import { parseResultsCsv } from '../../src/report/results.js';
import { job, syntheticRunInfo } from './synthetic.js';
import { tempDir } from '../helpers/temp.js';

async function staged(journal: RunJournal): Promise<{ rows: string[]; jobs: number }> {
  const csv = await readFile(join(journal.staging, 'results.csv'), 'utf8');
  const info = JSON.parse(await readFile(join(journal.staging, 'run.json'), 'utf8')) as { jobs: unknown[] };
  const rows = parseResultsCsv(csv, 'results.csv')
    .filter((row) => row.metric === 'events')
    .map((row) => `${row.trace}#${row.repeat}`);
  return { rows, jobs: info.jobs.length };
}

describe('RunJournal.record', () => {
  it('puts jobs that finish during a write on disk together, each listed only once its rows are', async () => {
    const journal = await RunJournal.open(join(await tempDir('journal'), 'run'), syntheticRunInfo('r1', []), false);
    const first = journal.record(job('a', 'x86-tdp', 0));
    await new Promise((resolve) => setImmediate(resolve));
    // Recorded while the first write is in flight: both go in the next write.
    const second = journal.record(job('b', 'x86-tdp', 0));
    const third = journal.record(job('c', 'x86-tdp', 0));
    assert.notEqual(first, second);
    assert.equal(second, third);

    await first;
    const early = await staged(journal);
    assert.ok(early.rows.includes('a#0'));
    assert.ok(early.jobs >= 1 && early.jobs <= early.rows.length, 'run.json lists no job whose rows are not on disk');

    await third;
    assert.deepEqual(await staged(journal), { rows: ['a#0', 'b#0', 'c#0'], jobs: 3 });
    await journal.close();
  });
});
