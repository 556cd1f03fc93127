// `run` reads a trace once per worker and replays every repeat from the loaded chunks when they fit
// (KEEP_LOADED_BYTES), and streams it from the file on every repeat when they do not. The decision
// counts an .s2t's rows from its header: column encodings take a row of the `scale` mix under 3 bytes,
// so the file's size would pass a trace that is loaded whole yet too big to keep.

import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseProfile } from '../../src/core/profile.js';
import { fitsInMemory, KEEP_LOADED_BYTES, runJob } from '../../src/replay/job.js';
import { ROW_BYTES } from '../../src/trace/chunk.js';
import { findGenerator } from '../../src/trace/generators/index.js';
import { writeTrace } from '../../src/trace/io.js';
import { repoPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';

describe('run: load once per worker or stream', () => {
  it('streams an .s2t whose rows would not fit, however small its file', async () => {
    const dir = await tempDir('job-load');
    const events = Math.ceil(KEEP_LOADED_BYTES / ROW_BYTES) + 1;
    const path = join(dir, 'scale.s2t');
    const trace = findGenerator('scale')!.generate({ events, guestGiB: 4 });
    await writeTrace(path, trace.meta, trace.chunks!());
    const bytes = (await stat(path)).size;
    // Small enough that a size-based guess at 10 bytes a row would have loaded it whole.
    assert.ok((bytes / 10) * ROW_BYTES < KEEP_LOADED_BYTES, `${bytes} bytes for ${events} rows`);
    assert.equal(await fitsInMemory(path, bytes), false);
  });

  it('keeps a small trace: later repeats on the same worker read nothing', async () => {
    const path = repoPath('traces/demand-paging/4vcpu-1g.csv');
    assert.equal(await fitsInMemory(path, (await stat(path)).size), true);
    const job = { index: 0, trace: 'dp', tracePath: path, profile: parseProfile('x86-tdp'), check: true };
    const first = await runJob({ ...job, repeat: 0 });
    const second = await runJob({ ...job, repeat: 1 });
    assert.equal(first.status, 'ok', first.error);
    assert.ok(first.timing['time.read_ms']! > 0);
    assert.equal(second.timing['time.read_ms'], 0);
    assert.deepEqual(second.modeled, first.modeled);
  });
});
