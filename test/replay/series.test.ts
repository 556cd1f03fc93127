// Counters over the course of a replay: a few hundred samples whatever the trace's length, the last at
// its end, `dirty_get` answers per pass, and series.csv reads back as it was written.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { replayTrace } from '../../src/replay/engine.js';
import { SERIES_POINTS, sampleInterval } from '../../src/replay/series.js';
import { parseProfile } from '../../src/core/profile.js';
import { seriesFigures } from '../../src/report/html/series-charts.js';
import type { LineChart } from '../../src/report/html/chart-spec.js';
import { groupKey } from '../../src/report/groups.js';
import { formatSeriesCsv, parseSeriesCsv } from '../../src/report/series.js';
import { readTrace } from '../../src/trace/io.js';
import { repoPath } from '../helpers/paths.js';

describe('replay series', () => {
  it('a pKVM trace samples host-shared beside EL2-shared pages and charts both, apart where they desync', async () => {
    const trace = await readTrace(repoPath('traces', 'pkvm', 'hypshare-churn.csv'));
    const result = replayTrace(trace, parseProfile('arm64-s2,hypshare=v7.1'), { series: true });
    const s = result.series!;
    const host = s.values['hypshare.host_shared']!;
    const el2 = s.values['hypshare.shared']!;
    assert.equal(host.at(-1), result.counters['hypshare.host_shared']);
    assert.ok(host.some((v) => v > 0), 'the host shares pages');
    assert.ok(host.some((v, k) => v !== el2[k]), 'a desync shows as the two lines apart');
    const chart = seriesFigures(s, (what) => what).charts.find((c) => c.id === 's-hypshare') as LineChart;
    assert.deepEqual(chart.lines.slice(0, 2).map((l) => [l.label, l.values]), [['host-shared', host], ['EL2-shared', el2]]);
  });


  it('samples a migration trace a few hundred times and records every dirty_get pass', async () => {
    const trace = await readTrace(repoPath('traces', 'migration', 'dirty-log-1g-thp.csv'));
    const result = replayTrace(trace, undefined, { series: true });
    const s = result.series!;
    const rows = result.counters['events']!;
    assert.equal(sampleInterval(rows), Math.ceil(rows / SERIES_POINTS));
    assert.ok(s.events.length >= SERIES_POINTS / 2 && s.events.length <= SERIES_POINTS + 1, `${s.events.length} samples`);
    assert.equal(s.events.at(-1), rows);
    assert.equal(s.values['faults']!.at(-1), result.counters['faults']);
    assert.equal(s.values['mapped.2m']!.at(-1), result.counters['mapped.2m']);
    assert.ok(s.events.every((e, k) => k === 0 || e > s.events[k - 1]!));
    // The trace's own dirty_get rows, each with the pages the model reported.
    const dirtyGets = trace.chunks.reduce((n, c) => n + c.op.filter((op) => op === 6).length, 0);
    assert.equal(s.dirtyPasses.length, dirtyGets);
    assert.ok(s.dirtyPasses.some(([, pages]) => pages > 0));
    // Without asking, no series (and no sampling).
    assert.equal(replayTrace(trace).series, undefined);
  });

  it('series.csv leaves out metrics that stay zero and reads back the rest', async () => {
    const trace = await readTrace(repoPath('traces', 'pkvm', 'hypshare-churn.csv'));
    const s = replayTrace(trace, undefined, { series: true }).series!;
    const key = groupKey('pkvm/hypshare-churn', 'arm64-s2,hypshare=v7.1');
    const text = formatSeriesCsv(new Map([[key, s]]));
    assert.doesNotMatch(text, /,faults,/);
    const back = parseSeriesCsv(text, 'series.csv').get(key)!;
    assert.deepEqual(back.events, s.events);
    assert.deepEqual(back.values['hypshare.shared'], s.values['hypshare.shared']);
    assert.equal(back.values['faults'], undefined);
    assert.throws(() => parseSeriesCsv('trace,profile,metric,events,value\na,b,c,x,1\n', 'r/series.csv'), /r\/series\.csv: line 2: expected trace,profile,metric,events,value/);
  });
});
