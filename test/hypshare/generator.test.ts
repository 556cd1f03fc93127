// Generator `hypshare`: deterministic per seed; a recording of one kernel replays under that kernel with
// no divergence, and under the other kernel the desyncs and behaviour changes (not divergences: the
// trace says `# recorded-under:` the first kernel) show where the kernels part ways.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { replayTrace, type ReplayResult } from '../../src/replay/engine.js';
import { TraceBuilder } from '../../src/trace/builder.js';
import { generateHypshare } from '../../src/trace/generators/hypshare.js';
import type { GeneratedTrace } from '../../src/trace/generators/common.js';
import type { TraceRow } from '../../src/trace/row.js';
import { parseProfile } from '../../src/core/profile.js';

function load(g: GeneratedTrace): { meta: GeneratedTrace['meta']; chunks: ReturnType<TraceBuilder['finish']> } {
  const b = new TraceBuilder(4096);
  for (const row of g.rows) b.push(row);
  return { meta: g.meta, chunks: b.finish() };
}

const rowsOf = (g: GeneratedTrace): TraceRow[] => [...g.rows];
const failures = (g: GeneratedTrace): number => rowsOf(g).filter((r) => typeof r.ret === 'number' && r.ret < 0).length;

describe('gen hypshare', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const [a, b] = [generateHypshare({ seed: 11 }), generateHypshare({ seed: 11 })];
    assert.deepEqual([a.meta, rowsOf(a)], [b.meta, rowsOf(b)]);
    assert.notDeepEqual(rowsOf(a), rowsOf(generateHypshare({ seed: 12 })));
  });

  it('with fail-rate 0 records no failure and tears down to nothing shared', () => {
    const g = generateHypshare({ seed: 2, failRate: 0 });
    assert.equal(failures(g), 0);
    const r = replayTrace(load(g));
    assert.deepEqual(r.divergences, []);
    assert.equal(r.counters['hypshare.shared'], 0);
    assert.equal(r.counters['hypshare.desynced'], 0);
  });

  const figures = (r: ReplayResult): Record<string, number> => ({
    divergences: r.divergences.length,
    changes: r.behaviourChanges.length,
    phantom: r.counters['hypshare.phantom']!,
    lost: r.counters['hypshare.lost']!,
    desynced: r.counters['hypshare.desynced']!,
  });

  it('a v7.1 recording (seed 4, 5% failures) desyncs under v7.1, its # profile, and changes behaviour under fixed', () => {
    const g = generateHypshare({ seed: 4, failRate: 0.05, kernel: 'v7.1' });
    assert.equal(g.meta.fields['profile'], 'arm64-s2,hypshare=v7.1');
    assert.equal(g.meta.fields['recorded-under'], 'arm64-s2,hypshare=v7.1');
    assert.deepEqual([rowsOf(g).length, failures(g)], [2444, 111]);
    const t = load(g);
    assert.deepEqual(figures(replayTrace(t)), { divergences: 0, changes: 0, phantom: 32, lost: 42, desynced: 37 });
    assert.deepEqual(figures(replayTrace(t, parseProfile('arm64-s2,hypshare=fixed'))), { divergences: 0, changes: 37, phantom: 0, lost: 0, desynced: 0 });
  });

  it('a fixed recording (seed 4, 5% failures) replays under fixed with no divergence and no desync', () => {
    const g = generateHypshare({ seed: 4, failRate: 0.05, kernel: 'fixed' });
    assert.deepEqual([rowsOf(g).length, failures(g)], [2382, 80]);
    const t = load(g);
    assert.deepEqual(figures(replayTrace(t)), { divergences: 0, changes: 0, phantom: 0, lost: 0, desynced: 0 });
    assert.deepEqual(figures(replayTrace(t, parseProfile('arm64-s2,hypshare=v7.1'))), { divergences: 0, changes: 37, phantom: 35, lost: 38, desynced: 43 });
  });

  it('emits one row per page of each object and only shares pfns from its pool', () => {
    const g = generateHypshare({ seed: 9, ops: 200, pfns: 16 });
    const pfns = rowsOf(g).map((r) => Number(r.gpa! >> 12n));
    assert.equal(pfns.filter((pfn) => pfn < 0x80000 || pfn >= 0x80000 + 16).length, 0);
    assert.equal(pfns.length, 564);
  });
});
