// Opens report.html and compare.html in headless Chromium: the pages must work offline (no request
// leaves the file), draw every chart, log no error, and show a hostile trace name as text.

import { strict as assert } from 'node:assert';
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { compareRuns } from '../../src/report/compare.js';
import { renderComparePage } from '../../src/report/html/compare-page.js';
import { writeFileAtomic } from '../../src/report/atomic.js';
import { readRunDir } from '../../src/report/run-dir.js';
import type { JobResult } from '../../src/report/types.js';
import { writeRun } from '../../src/report/write.js';
import { findChromium, visitPage, type PageVisit } from './browser.js';
import { HOSTILE, job, syntheticRunInfo } from './synthetic.js';

const chromium = findChromium();
// Kept after the test so the screenshots can be looked at (the tests print where). A directory of
// its own per run: two checkouts testing at once must not write into each other's pages.
let ROOT = '';

function run(scale: number): JobResult[] {
  const traces: Array<[string, string]> = [
    [HOSTILE, 'arm64'],
    ['boot/qemu-512m', 'x86-tdp'],
    ['conversion-storm', 'x86-tdp,gmem-folio=2m'],
  ];
  const micro = [0, 1, 2].map((repeat) =>
    job('micro', 'x86-tdp', repeat, {
      modeled: {},
      timing: { 'micro.lookup.ns_per_op': 21 + repeat, 'micro.fault_4k.ns_per_op': (310 + repeat) * scale, 'micro.zap.ns_per_op': 2.5e6 },
    }),
  );
  return micro.concat(traces.flatMap(([trace, profile], t) =>
    [0, 1, 2, 3, 4].map((repeat) =>
      job(trace, profile, repeat, {
        modeled: {
          events: 50000 * (t + 1),
          accesses: 48000 * (t + 1),
          faults: 9000,
          'faults.fixed': 8200,
          'faults.spurious': 300,
          'faults.wp': 200,
          'exits.mmio': 250,
          'exits.memfault': 50,
          'leaves.4k': 6000,
          'leaves.2m': 2000,
          'leaves.1g': 1,
          'mapped.4k': 6000 * 4096,
          'mapped.2m': 1900 * 2097152,
          'mapped.1g': 1073741824,
          splits: 40,
          zaps: 120,
          'tlb.flushes': 90,
          conversions: t === 2 ? 512 : 0,
          ...(t === 2 ? { 'conv.zapped_pages.p50': 512, 'conv.zapped_pages.p99': 4096, 'conv.zapped_pages.max': 262144 } : {}),
        },
        timing: {
          'time.replay_ms': (20 + repeat * 0.3) * (t + 1) * scale,
          'rate.events_per_s': (50000 * (t + 1)) / (((20 + repeat * 0.3) * (t + 1) * scale) / 1000),
        },
      }),
    ),
  ));
}

function assertCleanPage(visit: PageVisit, expectedCharts: number): void {
  assert.deepEqual(visit.consoleErrors, []);
  assert.deepEqual(visit.requests, []);
  assert.equal(visit.charts.length, expectedCharts);
  for (const chart of visit.charts) {
    assert.ok(chart.drawn && chart.canvasWidth > 0 && chart.canvasHeight > 0, `chart ${chart.id} not drawn: ${JSON.stringify(chart)}`);
  }
  assert.ok(visit.text.includes(HOSTILE), 'the hostile trace name is shown as text');
  assert.equal(visit.images, 0, 'the hostile trace name made no <img> element');
}

describe('report pages in Chromium', () => {
  before(async () => {
    ROOT = await mkdtemp(join(tmpdir(), 's2bench-report-browser-'));
  });

  it('report.html with an embedded baseline: offline, every chart drawn, hostile name as text', async (t) => {
    if ('missing' in chromium) return t.skip(chromium.missing);
    const baseJobs = run(1);
    const newJobs = run(1.4);
    await writeRun(join(ROOT, 'base'), syntheticRunInfo('base', baseJobs), baseJobs);
    const dir = join(ROOT, 'new');
    await writeRun(dir, syntheticRunInfo('new', newJobs), newJobs, { baselineDir: join(ROOT, 'base') });
    const visit = await visitPage(chromium.path, join(dir, 'report.html'), join(dir, 'report.png'));
    // 1 comparison chart + 3 sections x (faults, levels, throughput) + 1 conversion chart + 1 micro chart.
    assertCleanPage(visit, 1 + 3 * 3 + 1 + 1);
    assert.match(visit.text, /REGRESSION: 6 timing metric\(s\)/);
    assert.ok((await stat(join(dir, 'report.png'))).size > 10000);
    t.diagnostic(`screenshot: ${join(dir, 'report.png')}`);
  });

  it('compare.html: offline, its chart drawn, hostile name as text', async (t) => {
    if ('missing' in chromium) return t.skip(chromium.missing);
    const baseJobs = run(1);
    const newJobs = run(1.4);
    await writeRun(join(ROOT, 'cmp-base'), syntheticRunInfo('cmp-base', baseJobs), baseJobs);
    const dir = join(ROOT, 'cmp-new');
    await writeRun(dir, syntheticRunInfo('cmp-new', newJobs), newJobs);
    const comparison = compareRuns(await readRunDir(join(ROOT, 'cmp-base')), await readRunDir(dir));
    await writeFileAtomic(join(dir, 'compare.html'), renderComparePage(comparison));
    const visit = await visitPage(chromium.path, join(dir, 'compare.html'), join(dir, 'compare.png'));
    assertCleanPage(visit, 1);
    assert.ok((await stat(join(dir, 'compare.png'))).size > 10000);
    t.diagnostic(`screenshot: ${join(dir, 'compare.png')}`);
  });

  it('the checks themselves catch a page that fetches, logs an error or leaves a chart undrawn', async (t) => {
    if ('missing' in chromium) return t.skip(chromium.missing);
    const path = join(ROOT, 'bad.html');
    await writeFile(
      path,
      '<!doctype html><html><body><img src="http://127.0.0.1:9/x.png"><div class="chart" id="c"></div>' +
        "<script>console.error('boom')</script></body></html>",
    );
    const visit = await visitPage(chromium.path, path, join(ROOT, 'bad.png'));
    assert.deepEqual(visit.requests, ['http://127.0.0.1:9/x.png']);
    assert.ok(visit.consoleErrors.includes('boom'), JSON.stringify(visit.consoleErrors));
    assert.deepEqual(visit.charts, [{ id: 'c', drawn: false, canvasWidth: 0, canvasHeight: 0 }]);
    assert.equal(visit.images, 1);
  });
});
