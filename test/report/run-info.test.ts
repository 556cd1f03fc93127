import { strict as assert } from 'node:assert';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { collectRunInfo } from '../../src/report/run-info.js';
import { job } from './synthetic.js';
import { tempDir } from '../helpers/temp.js';

describe('collectRunInfo', () => {
  it('records each trace with its content hash, size and event count, and each job with its status', async () => {
    const dir = await tempDir('runinfo');
    try {
      const path = join(dir, 'abc.csv');
      await writeFile(path, 'abc');
      const results = [job('abc', 'x86-tdp', 0), job('abc', 'x86-tdp', 1, { status: 'failed', error: 'boom', modeled: {}, timing: {} })];
      const info = await collectRunInfo({
        runId: 'r1',
        startedAt: new Date('2026-01-01T00:00:00Z'),
        finishedAt: new Date('2026-01-01T00:00:02Z'),
        options: { repeat: 2, onResult: () => undefined, workerFile: undefined },
        traces: [
          { name: 'abc', path },
          { name: 'gone', path: join(dir, 'gone.csv') },
        ],
        results,
      });
      assert.deepEqual(info.traces, [
        // sha256("abc") from FIPS 180-2's example.
        { name: 'abc', path, events: 10, bytes: 3, sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
        { name: 'gone', path: join(dir, 'gone.csv'), events: null, bytes: null, sha256: null },
      ]);
      assert.deepEqual(info.options, { repeat: 2 });
      assert.deepEqual(info.jobs.map((j) => [j.repeat, j.status, j.error]), [
        [0, 'ok', undefined],
        [1, 'failed', 'boom'],
      ]);
      assert.equal(info.startedAt, '2026-01-01T00:00:00.000Z');
      assert.equal(info.host.node, process.version);
      assert.ok(info.host.cores >= 1);
      assert.match(info.s2benchVersion, /^\d+\.\d+\.\d+/);
      assert.ok(info.gitCommit === null || /^[0-9a-f]{40}(-dirty)?$/.test(info.gitCommit));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
