import { strict as assert } from 'node:assert';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeFileAtomic } from '../../src/report/atomic.js';
import { parseResultsCsv } from '../../src/report/results.js';
import { writeRun } from '../../src/report/write.js';
import { HOSTILE, job, syntheticJobs, syntheticRunInfo } from './synthetic.js';
import { tempDir } from '../helpers/temp.js';

describe('writeRun', () => {
  it('writes results.csv in long form, sorted by trace, profile, repeat, schema metrics first', async () => {
    const dir = await tempDir('report');
    try {
      await writeRun(dir, syntheticRunInfo(), syntheticJobs());
      const text = await readFile(join(dir, 'results.csv'), 'utf8');
      assert.equal(
        text,
        [
          'run,trace,profile,metric,unit,repeat,value',
          // The hostile name sorts first ('<' < 'b'); the failed repeat has no rows, the infinite rate none.
          `r1,${HOSTILE},arm64,events,count,0,2`,
          `r1,${HOSTILE},arm64,conversions,count,0,2`,
          `r1,${HOSTILE},arm64,conv.pages.p50,count,0,1`,
          `r1,${HOSTILE},arm64,conv.pages.p99,count,0,512`,
          `r1,${HOSTILE},arm64,time.replay_ms,ms,0,0.5`,
          'r1,boot,x86-tdp,events,count,0,10',
          'r1,boot,x86-tdp,faults,count,0,4',
          'r1,boot,x86-tdp,faults.fixed,count,0,3',
          'r1,boot,x86-tdp,exits.mmio,count,0,1',
          'r1,boot,x86-tdp,mapped.2m,bytes,0,2097152',
          'r1,boot,x86-tdp,rate.events_per_s,events/s,0,5000',
          'r1,boot,x86-tdp,time.replay_ms,ms,0,2',
          'r1,boot,x86-tdp,events,count,1,10',
          'r1,boot,x86-tdp,faults,count,1,4',
          'r1,boot,x86-tdp,faults.fixed,count,1,3',
          'r1,boot,x86-tdp,exits.mmio,count,1,1',
          'r1,boot,x86-tdp,mapped.2m,bytes,1,2097152',
          'r1,boot,x86-tdp,rate.events_per_s,events/s,1,4000',
          'r1,boot,x86-tdp,time.replay_ms,ms,1,3',
          '',
        ].join('\n'),
      );
      assert.equal(parseResultsCsv(text, 'results.csv').length, 19);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('quotes names that contain commas and quotes, and reads them back unchanged', async () => {
    const dir = await tempDir('report');
    try {
      const name = 'odd, "quoted" name';
      const jobs = [{ ...syntheticJobs()[0]!, trace: name, repeat: 0 }];
      await writeRun(dir, syntheticRunInfo('r2', jobs), jobs);
      const rows = parseResultsCsv(await readFile(join(dir, 'results.csv'), 'utf8'), 'results.csv');
      assert.deepEqual(new Set(rows.map((r) => r.trace)), new Set([name]));
      assert.equal(rows.find((r) => r.metric === 'mapped.2m')?.value, 2097152);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes summary.csv with one row per trace x profile and the spread of events/s', async () => {
    const dir = await tempDir('report');
    try {
      await writeRun(dir, syntheticRunInfo(), syntheticJobs());
      const lines = (await readFile(join(dir, 'summary.csv'), 'utf8')).trimEnd().split('\n');
      assert.equal(
        lines[0],
        'trace,profile,status,repeats,failed,events,accesses,faults,faults.fixed,exits.mmio,exits.memfault,leaves.4k,leaves.2m,leaves.1g,' +
          'mapped.4k,mapped.2m,mapped.1g,splits,zaps,tlb.flushes,conversions,' +
          'exits.internal,iotlb.leaked,iotlb.freed_domain_uses,hypshare.phantom,hypshare.lost,divergences,behaviour_changes,' +
          'events_per_s.median,events_per_s.min,events_per_s.max,events_per_s.spread_pct,replay_ms.median',
      );
      assert.equal(lines.length, 3);
      assert.equal(lines[1], `${HOSTILE},arm64,partial,2,1,2,,,,,,,,,,,,,,,2,,,,,,,,,,,,0.5`);
      assert.equal(lines[2], 'boot,x86-tdp,ok,2,0,10,,4,3,1,,,,,,2097152,,,,,,,,,,,,,4500,4000,5000,11.11,2.5');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes run.json with the failed job and its error', async () => {
    const dir = await tempDir('report');
    try {
      await writeRun(dir, syntheticRunInfo(), syntheticJobs());
      const info = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')) as ReturnType<typeof syntheticRunInfo>;
      assert.deepEqual(
        info.jobs.filter((j) => j.status === 'failed'),
        [{ trace: HOSTILE, profile: 'arm64', repeat: 1, status: 'failed', error: 'worker died: out of memory', divergences: 0 }],
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('writeRun with a baseline', () => {
  it('embeds the comparison, writes compare.csv and compare.html, and compares only the shared pairs', async () => {
    const root = await tempDir('report');
    try {
      const baseJobs = [job('boot', 'x86-tdp', 0), job('gone', 'x86-tdp', 0)];
      const newJobs = [job('boot', 'x86-tdp', 0, { modeled: { ...job('boot', 'x86-tdp', 0).modeled, faults: 5 } }), job('added', 'x86-tdp', 0)];
      await writeRun(join(root, 'base'), syntheticRunInfo('base', baseJobs), baseJobs);
      const result = await writeRun(join(root, 'new'), syntheticRunInfo('new', newJobs), newJobs, { baselineDir: join(root, 'base') });
      assert.equal(result.baselineError, undefined);
      assert.equal(result.comparison?.behaviourChanges, 1);
      assert.deepEqual(result.comparison?.onlyInBase, [{ trace: 'gone', profile: 'x86-tdp' }]);
      assert.deepEqual(result.comparison?.onlyInNew, [{ trace: 'added', profile: 'x86-tdp' }]);
      assert.deepEqual((await readdir(join(root, 'new'))).sort(), ['compare.csv', 'compare.html', 'report.html', 'results.csv', 'run.json', 'series.csv', 'summary.csv']);
      const html = await readFile(join(root, 'new', 'report.html'), 'utf8');
      assert.match(html, /Comparison with baseline/);
      assert.match(html, /BEHAVIOUR CHANGE: 1 modeled metric value\(s\) differ/);
      assert.match(html, /present in one run only: gone \[x86-tdp\] \(base only\), added \[x86-tdp\] \(new only\)/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('still writes the run when the baseline cannot be read, and says why in the report', async () => {
    const root = await tempDir('report');
    try {
      const jobs = [job('boot', 'x86-tdp', 0)];
      const result = await writeRun(join(root, 'new'), syntheticRunInfo('new', jobs), jobs, { baselineDir: join(root, 'missing') });
      assert.match(result.baselineError ?? '', /missing.run\.json: not found/);
      assert.equal(result.comparison, undefined);
      assert.match(await readFile(join(root, 'new', 'report.html'), 'utf8'), /Baseline not compared: .*missing.run\.json: not found/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('writeFileAtomic', () => {
  it('replaces an existing file whole and leaves no temp files behind', async () => {
    const dir = await tempDir('report');
    try {
      const path = join(dir, 'results.csv');
      await writeFile(path, 'old\n');
      await writeFileAtomic(path, 'new content\n');
      assert.equal(await readFile(path, 'utf8'), 'new content\n');
      assert.deepEqual(await readdir(dir), ['results.csv']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps the old file intact and removes its temp file when the write fails', async () => {
    const dir = await tempDir('report');
    try {
      const path = join(dir, 'report.html');
      await writeFile(path, 'old report');
      // A non-empty directory where the target should be makes the final rename fail after the data
      // was written: the temp file must go, and nothing else may change.
      const blocked = join(dir, 'blocked');
      await mkdir(join(blocked, 'not-empty'), { recursive: true });
      await assert.rejects(writeFileAtomic(blocked, 'new'));
      assert.equal(await readFile(path, 'utf8'), 'old report');
      assert.deepEqual((await readdir(dir)).sort(), ['blocked', 'report.html']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
