// The whole path a CI user takes: two suite runs written with writeRun, then `s2bench compare`.
// Two runs of the same code must show no behaviour change; a run with a deliberately slowed core
// (every guest access burns extra CPU) must be reported as a timing regression with exit code 1.

import { strict as assert } from 'node:assert';
import { rm, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Vm } from '../../src/core/vm.js';
import { compareRuns } from '../../src/report/compare.js';
import { collectRunInfo } from '../../src/report/run-info.js';
import { readRunDir } from '../../src/report/run-dir.js';
import { writeRun } from '../../src/report/write.js';
import { runSuite } from '../../src/replay/run-suite.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const PAGES = 4096;

/** A 16 MiB slot swept twice by one vCPU: 2 x 4096 accesses plus the setup rows. */
function sweepTrace(): string {
  const lines = ['# s2bench trace v1', '# arch: x86_64', 'op,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret'];
  lines.push('backing,,,0x1000000,,anon,0x7f0000000000,,,,');
  lines.push('memslot,,0x0,0x1000000,0,,0x7f0000000000,,,,0');
  for (let pass = 0; pass < 2; pass++) {
    for (let page = 0; page < PAGES; page++) lines.push(`${pass === 0 ? 'write' : 'read'},0,0x${(page * 4096).toString(16)},4096,,,,,,,`);
  }
  return lines.join('\n') + '\n';
}

async function suiteRun(traceDir: string, outDir: string, runId: string): Promise<void> {
  const startedAt = new Date();
  const suite = await runSuite({ inputs: [traceDir], workers: 0, repeat: 5, profiles: [], check: false });
  const info = await collectRunInfo({ runId, startedAt, finishedAt: new Date(), options: { repeat: 5 }, traces: suite.traces, results: suite.results });
  await writeRun(outDir, info, suite.results);
}

/**
 * Slows the model down: every access row (Vm.accessRange(), the replay engine's entry point; one page
 * per row in this trace) first spins for a few microseconds.
 */
function slowCore(): () => void {
  const original = Vm.prototype.accessRange;
  let sink = 0;
  Vm.prototype.accessRange = function (this: Vm, vcpu: number, gfn: number, pages: number, kind: number, flags: number): number {
    for (let i = 0; i < 20000; i++) sink = (sink + i * gfn) | 0;
    return original.call(this, vcpu, gfn, pages, kind, flags);
  };
  return () => {
    Vm.prototype.accessRange = original;
    void sink;
  };
}

describe('compare on real suite runs', () => {
  let root: string;
  before(async () => {
    root = await tempDir('e2e');
    await mkdir(join(root, 'traces'));
    await writeFile(join(root, 'traces', 'sweep.csv'), sweepTrace());
    await suiteRun(join(root, 'traces'), join(root, 'base'), 'base');
    await suiteRun(join(root, 'traces'), join(root, 'same'), 'same');
    const restore = slowCore();
    try {
      await suiteRun(join(root, 'traces'), join(root, 'slow'), 'slow');
    } finally {
      restore();
    }
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('finds every job ok and the same modeled counters in two runs of the same code', async () => {
    const base = await readRunDir(join(root, 'base'));
    assert.deepEqual(base.info.jobs.map((j) => j.status), ['ok', 'ok', 'ok', 'ok', 'ok']);
    assert.equal(base.groups[0]!.modeled['accesses'], 2 * PAGES);
    const c = compareRuns(base, await readRunDir(join(root, 'same')));
    assert.equal(c.behaviourChanges, 0);
    assert.ok(c.modeled.length > 20);
  });

  it('reports the slowed core as a regression of replay time and exits 1', async () => {
    const r = await runCli(['compare', join(root, 'base'), join(root, 'slow')]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /sweep\s+\S+\s+time\.replay_ms .*REGRESSION/);
    assert.match(r.stdout, /no behaviour change/);
  });
});
