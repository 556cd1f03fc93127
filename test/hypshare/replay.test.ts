// hyp_share / hyp_unshare rows through the replay engine: a recorded failure (negative ret) is injected
// as the hypercall's answer, and the hypshare knob decides what the host's tree does with it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { replayTrace, type ReplayResult } from '../../src/replay/engine.js';
import { TraceBuilder } from '../../src/trace/builder.js';
import type { TraceRow } from '../../src/trace/row.js';
import { TRACE_MAGIC_LINE } from '../../src/trace/schema.js';
import { parseProfile } from '../../src/core/profile.js';

function replay(rows: TraceRow[], profile: string): ReplayResult {
  const b = new TraceBuilder(8);
  for (const row of rows) b.push(row);
  return replayTrace({ meta: { comments: [TRACE_MAGIC_LINE], fields: {} }, chunks: b.finish() }, parseProfile(profile));
}

const page = (pfn: number): bigint => BigInt(pfn) << 12n;

/** pfn 0x10: the share hypercall fails; pfn 0x20: shared, then the unshare hypercall fails. */
const ONE_OF_EACH: TraceRow[] = [
  { op: 'hyp_share', gpa: page(0x10), ret: '-EPERM' },
  { op: 'hyp_share', gpa: page(0x20), ret: 0 },
  { op: 'hyp_unshare', gpa: page(0x20), ret: '-EBUSY' },
];

function desyncs(r: ReplayResult): Record<string, number> {
  const c = r.counters;
  return { phantom: c['hypshare.phantom']!, lost: c['hypshare.lost']!, desynced: c['hypshare.desynced']! };
}

describe('replay: one failing share and one failing unshare', () => {
  it('hypshare=v7.1 reports one phantom and one lost share', () => {
    const r = replay(ONE_OF_EACH, 'arm64-s2,hypshare=v7.1');
    assert.deepEqual(r.divergences, []);
    assert.deepEqual(desyncs(r), { phantom: 1, lost: 1, desynced: 2 });
  });

  it('hypshare=fixed reports none', () => {
    const r = replay(ONE_OF_EACH, 'arm64-s2,hypshare=fixed');
    assert.deepEqual(r.divergences, []);
    assert.deepEqual(desyncs(r), { phantom: 0, lost: 0, desynced: 0 });
  });

  it('v7.1: a later share of the phantom pfn succeeds without a hypercall, so EL2 never shares it', () => {
    const rows: TraceRow[] = [
      ...ONE_OF_EACH,
      { op: 'expect', flags: 'hypshare.hypercalls', ret: 3 },
      { op: 'hyp_share', gpa: page(0x10), ret: 0 },
      { op: 'expect', flags: 'hypshare.hypercalls', ret: 3 },
      { op: 'expect', flags: 'hypshare.shared', ret: 1 },
      { op: 'expect', flags: 'hypshare.desync_ops', ret: 1 },
    ];
    const r = replay(rows, 'arm64-s2,hypshare=v7.1');
    assert.deepEqual(r.divergences, []);
    assert.deepEqual(desyncs(r), { phantom: 1, lost: 1, desynced: 2 });
  });

  it('fixed: the same later share makes the hypercall and EL2 shares the page', () => {
    const rows: TraceRow[] = [
      ...ONE_OF_EACH,
      { op: 'hyp_share', gpa: page(0x10), ret: 0 },
      { op: 'expect', flags: 'hypshare.hypercalls', ret: 4 },
      { op: 'expect', flags: 'hypshare.shared', ret: 2 },
    ];
    const r = replay(rows, 'arm64-s2,hypshare=fixed');
    assert.deepEqual(r.divergences, []);
  });
});
