// The report of a real run of shipped traces, in Chromium at 1280 pixels: the summary fits the window
// and leads with faults, faults/s and the seed systems' findings; a behaviour change is listed, not
// flagged as a divergence; every trace section shows only charts with something in them (a pKVM trace
// shows its shares over the trace, not charts of zeros); micro-benchmarks have a section of their own;
// the "Between versions" and "Recorded VMs" tables fit without scrolling.
// With S2BENCH_SCREENSHOT=docs/report.png (`npm run docs:screenshot`) the first screenful is saved for
// the README.

import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { runCliOk } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';
import { findChromium, visitPage, type PageVisit } from './browser.js';

const chromium = findChromium();

/** The charts of the section whose title starts with `title`, by their kind (the id after `gN-`). */
function chartsOf(visit: PageVisit, title: string): string[] {
  const section = visit.sections.find((s) => s.title.startsWith(title));
  assert.ok(section, `no section '${title}' in ${JSON.stringify(visit.sections.map((s) => s.title))}`);
  return visit.charts.filter((c) => c.id.startsWith(`${section.id}-`)).map((c) => c.id.slice(section.id.length + 1));
}

describe('report of a run of shipped traces, in Chromium', () => {
  it('fits 1280 px, shows findings and behaviour changes, and draws no chart of zeros', async (t) => {
    if ('missing' in chromium) return t.skip(chromium.missing);
    const dir = join(await tempDir('suite-report'), 'run');
    // From the repository root with a relative input, so no path of the machine shows in the report.
    await runCliOk(['run', 'traces', '-f', '{pkvm/*,vdpa/*,migration/*,recorded/qemu-seabios}', '-r', '1', '-w', '1', '-q', '--micro', '-o', dir], { cwd: REPO_ROOT });
    const wanted = process.env['S2BENCH_SCREENSHOT'];
    const shot = wanted ? resolve(REPO_ROOT, wanted) : join(dir, 'window.png');
    const visit = await visitPage(chromium.path, join(dir, 'report.html'), join(dir, 'report.png'), shot);
    t.diagnostic(`screenshots: ${join(dir, 'report.png')}, ${shot}`);

    assert.deepEqual(visit.consoleErrors, []);
    assert.deepEqual(visit.requests, []);
    for (const chart of visit.charts) assert.ok(chart.drawn && chart.canvasWidth > 0, `chart ${chart.id} not drawn`);
    assert.deepEqual(visit.overflow, { page: 0, summary: 0 }, 'the page and its summary table fit a 1280-pixel window');
    // Between versions (migration's PML and version pairs) and the recorded VM: tables that fit too.
    assert.deepEqual(visit.sectionOverflow, { 'between-versions': 0, 'recorded-vms': 0 });
    assert.match(visit.text, /Between versions[\s\S]*x86-tdp@6\.12 →\s*x86-tdp@6\.12,pml=off\s*pml on -> off/);
    assert.match(visit.text, /Recorded VMs[\s\S]*recorded\/qemu-seabios[\s\S]*vCPU 0\t1\t229\t0/);

    assert.match(visit.text, /\bfaults\/s\b/);
    assert.match(visit.text, /1,048,546 IOTLB pages leaked/);
    assert.match(visit.text, /9 freed-domain uses/);
    assert.match(visit.text, /\d+ pKVM pages desynced/);
    assert.match(visit.text, /BEHAVIOUR CHANGE pkvm\/hypshare-churn \[arm64-s2\]: 9 row\(s\)/);
    assert.doesNotMatch(visit.text, /DIVERGED/);

    assert.deepEqual(chartsOf(visit, 'pkvm/hypshare-churn arm64-s2,hypshare=v7.1 '), ['s-hypshare', 'rate']);
    assert.deepEqual(chartsOf(visit, 'pkvm/hypshare-churn arm64-s2 '), ['s-hypshare', 'rate']);
    assert.deepEqual(chartsOf(visit, 'vdpa/churn-then-kill x86-tdp,vdpa-release=leaky '), ['s-iotlb', 'rate']);
    assert.deepEqual(chartsOf(visit, 'migration/dirty-log-1g-thp x86-tdp@6.18 '), ['faults', 'levels', 's-faults', 's-mapped', 's-dirty', 'rate']);
    assert.ok(chartsOf(visit, 'Micro-benchmarks ').length > 0);
    assert.ok(!visit.sections.some((s) => s.title.startsWith('micro')), 'no `micro` trace section');

    // The samples behind the charts are in series.csv for other tools.
    const series = await readFile(join(dir, 'series.csv'), 'utf8');
    assert.match(series, /^trace,profile,metric,events,value\n/);
    assert.match(series, /^pkvm\/hypshare-churn,"arm64-s2,hypshare=v7.1",hypshare\.shared,\d+,\d+$/m);
    assert.match(series, /^migration\/dirty-log-1g-thp,x86-tdp@6.18,dirty_get\.pages,\d+,\d+$/m);
  });
});
