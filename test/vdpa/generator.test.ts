// Generator `vdpa`: deterministic per seed, replays without divergences, and a killed VMM shows each
// release kernel's behaviour on the whole RAM layout.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { replayTrace } from '../../src/replay/engine.js';
import { TraceBuilder } from '../../src/trace/builder.js';
import type { GeneratedTrace } from '../../src/trace/generators/common.js';
import { generateVdpa } from '../../src/trace/generators/vdpa.js';
import type { TraceRow } from '../../src/trace/row.js';
import { parseProfile } from '../../src/core/profile.js';

function load(g: GeneratedTrace): { meta: GeneratedTrace['meta']; chunks: ReturnType<TraceBuilder['finish']> } {
  const b = new TraceBuilder(4096);
  for (const row of g.rows) b.push(row);
  return { meta: g.meta, chunks: b.finish() };
}

/**
 * 4 GiB of RAM: [0, 640 KiB) = 160 pages, [1 MiB, 2 GiB) = 524032 pages, 2 GiB at 4 GiB = 524288 pages,
 * the 256 KiB BIOS ROM = 64 pages, the CVQ buffer in asid 1 = 2 pages.
 */
const rowsOf = (g: GeneratedTrace): TraceRow[] => [...g.rows];

const PINNED_4G = 160 + 524032 + 524288 + 64 + 2;

describe('gen vdpa', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const [a, b] = [generateVdpa({ seed: 7 }), generateVdpa({ seed: 7 })];
    assert.deepEqual([a.meta, rowsOf(a)], [b.meta, rowsOf(b)]);
    assert.notDeepEqual(rowsOf(a), rowsOf(generateVdpa({ seed: 8 })));
  });

  it('has exactly one batch per round plus the initial layout, and one close', () => {
    const rows = rowsOf(generateVdpa({ seed: 3, rounds: 10 }));
    const count = (op: string): number => rows.filter((r) => r.op === op).length;
    assert.equal(count('iotlb_batch_begin'), 11);
    assert.equal(count('iotlb_batch_end'), 11);
    assert.equal(count('vdpa_close'), 1);
    assert.equal(rowsOf(generateVdpa({ seed: 3, rounds: 10, batch: false })).filter((r) => r.op === 'iotlb_batch_begin').length, 0);
  });

  it('replays without divergences and keeps every RAM page mapped through the churn', () => {
    const r = replayTrace(load(generateVdpa({ seed: 5, rounds: 200 })), parseProfile('x86-tdp'));
    assert.deepEqual(r.divergences, []);
    assert.equal(r.counters['iotlb.pinned'], 0);
    assert.equal(r.counters['iotlb.leaked'], 0);
  });

  it('with kill, leaks the whole layout under leaky, unmaps it after the free under free-first', () => {
    const g = generateVdpa({ seed: 5, rounds: 50, kill: true });
    // The generator's own count of live entries before the close, checked by its expect row.
    const maps = rowsOf(g).find((r) => r.op === 'expect' && r.flags === 'iotlb.maps')!.ret;
    assert.equal(maps, 17);
    const killed = load(g);
    const leaky = replayTrace(killed, parseProfile('x86-tdp,vdpa-release=leaky'));
    assert.deepEqual(leaky.divergences, []);
    assert.deepEqual([leaky.counters['iotlb.leaked'], leaky.counters['iotlb.leaked_maps']], [PINNED_4G, 17]);
    const freeFirst = replayTrace(killed, parseProfile('x86-tdp,vdpa-release=free-first'));
    assert.deepEqual(freeFirst.divergences, []);
    assert.deepEqual([freeFirst.counters['iotlb.freed_domain_uses'], freeFirst.counters['iotlb.leaked']], [17, 0]);
    const clean = replayTrace(killed, parseProfile('x86-tdp'));
    assert.deepEqual([clean.counters['iotlb.leaked'], clean.counters['iotlb.freed_domain_uses']], [0, 0]);
  });

  it('maps a smaller guest entirely below 2 GiB', () => {
    const g = generateVdpa({ seed: 1, ramMiB: 512, rounds: 0, cvqAsid: false, kill: true });
    const r = replayTrace(load(g), parseProfile('x86-tdp,vdpa-release=leaky'));
    // [0, 640 KiB) + [1 MiB, 512 MiB) + ROM.
    assert.equal(r.counters['iotlb.leaked'], 160 + 130816 + 64);
    assert.equal(r.counters['iotlb.leaked_maps'], 3);
  });
});
