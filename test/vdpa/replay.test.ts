// vhost-vdpa rows through the replay engine: the same trace under the three release kernels
// (vdpa-release=leaky|free-first|clean), recorded errnos compared, and `expect` rows on iotlb.*.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { replayTrace } from '../../src/replay/engine.js';
import { TraceBuilder } from '../../src/trace/builder.js';
import { parseTraceText } from '../../src/trace/io.js';
import type { TraceRow } from '../../src/trace/row.js';
import { TRACE_MAGIC_LINE } from '../../src/trace/schema.js';
import { parseProfile } from '../../src/core/profile.js';

function trace(rows: TraceRow[]): { meta: { comments: string[]; fields: Record<string, string> }; chunks: ReturnType<TraceBuilder['finish']> } {
  const b = new TraceBuilder(16);
  for (const row of rows) b.push(row);
  return { meta: { comments: [TRACE_MAGIC_LINE], fields: {} }, chunks: b.finish() };
}

/** A VMM maps two RAM ranges (256 + 512 pages) and is killed: close without invalidating. */
const KILLED: TraceRow[] = [
  { op: 'iotlb_update', slot: 0, gpa: 0n, size: 0x100000n, hva: 0x7f0000000000n, flags: 'rw', ret: 0 },
  { op: 'iotlb_update', slot: 0, gpa: 0x100000000n, size: 0x200000n, hva: 0x7f0040000000n, flags: 'rw', ret: 0 },
  { op: 'expect', flags: 'iotlb.pinned', ret: 768 },
  { op: 'vdpa_close' },
];

function leftBehind(profile: string, rows: TraceRow[] = KILLED): Record<string, number> {
  const r = replayTrace(trace(rows), parseProfile(profile));
  assert.deepEqual(r.divergences, []);
  const c = r.counters;
  return {
    pinned: c['iotlb.pinned']!,
    leaked: c['iotlb.leaked']!,
    leaked_maps: c['iotlb.leaked_maps']!,
    freed_domain_uses: c['iotlb.freed_domain_uses']!,
  };
}

describe('replay: a VMM killed with two ranges mapped', () => {
  it('vdpa-release=leaky leaks exactly their 768 pinned pages', () => {
    assert.deepEqual(leftBehind('x86-tdp,vdpa-release=leaky'), { pinned: 768, leaked: 768, leaked_maps: 2, freed_domain_uses: 0 });
  });
  it('vdpa-release=free-first reports two freed-domain unmaps', () => {
    assert.deepEqual(leftBehind('x86-tdp,vdpa-release=free-first'), { pinned: 0, leaked: 0, leaked_maps: 0, freed_domain_uses: 2 });
  });
  it('vdpa-release=clean (the default) reports nothing', () => {
    assert.deepEqual(leftBehind('x86-tdp'), { pinned: 0, leaked: 0, leaked_maps: 0, freed_domain_uses: 0 });
  });
});

describe('replay: driver answers compared with the recorded ret', () => {
  it('an overlapping update is -EEXIST, an invalidate of an unmapped range is 0', () => {
    const rows: TraceRow[] = [
      { op: 'iotlb_update', slot: 0, gpa: 0n, size: 0x100000n, hva: 0x7f0000000000n, flags: 'rw', ret: 0 },
      { op: 'iotlb_update', slot: 0, gpa: 0x80000n, size: 0x100000n, hva: 0x7f0000000000n, flags: 'rw', ret: '-EEXIST' },
      { op: 'iotlb_invalidate', slot: 0, gpa: 0x40000000n, size: 0x100000n, ret: 0 },
      { op: 'iotlb_invalidate', slot: 1, gpa: 0n, size: 0x1000n, ret: '-EINVAL' },
      { op: 'expect', flags: 'iotlb.pinned', ret: 256 },
      { op: 'iotlb_invalidate', slot: 0, gpa: 0x1000n, size: 0x1000n, ret: 0 },
      { op: 'expect', flags: 'iotlb.pinned', ret: 0 },
    ];
    const r = replayTrace(trace(rows), parseProfile('x86-tdp'));
    assert.deepEqual(r.divergences, []);
  });

  it('reports a recorded answer the driver would not give as a divergence', () => {
    const rows: TraceRow[] = [
      { op: 'iotlb_update', slot: 0, gpa: 0n, size: 0x1000n, hva: 0x1000n, flags: 'ro', ret: 0 },
      { op: 'iotlb_update', slot: 0, gpa: 0n, size: 0x1000n, hva: 0x1000n, flags: 'ro', ret: 0 },
    ];
    const r = replayTrace(trace(rows), parseProfile('x86-tdp'));
    assert.deepEqual(
      r.divergences.map((d) => [d.line, d.op, d.expected, d.got]),
      [[2, 'iotlb_update', '0', '-EEXIST']],
    );
  });

  it('a batch reaches the device as one commit', () => {
    const rows: TraceRow[] = [
      { op: 'iotlb_batch_begin', slot: 0, ret: 0 },
      ...KILLED.slice(0, 2),
      { op: 'iotlb_invalidate', slot: 0, gpa: 0n, size: 0x100000n, ret: 0 },
      { op: 'iotlb_batch_end', slot: 0, ret: 0 },
    ];
    const r = replayTrace(trace(rows), parseProfile('x86-tdp'));
    assert.deepEqual(r.divergences, []);
    assert.equal(r.counters['iotlb.device_commits'], 1);
    assert.equal(r.counters['iotlb.pinned'], 512);
  });
});

describe('replay: a CSV trace of a killed VMM', () => {
  const TEXT = [
    '# s2bench trace v1',
    '# profile: x86-tdp,vdpa-release=leaky',
    'op,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret',
    'iotlb_batch_begin,,,,0,,,,,,0',
    'iotlb_update,,0x0,0x100000,0,rw,0x7f0000000000,,,,0',
    'iotlb_update,,0x100000000,0x200000,0,rw,0x7f0040000000,,,,0',
    'iotlb_update,,0x100000,0x1000,0,ro,0x7f0000100000,,,,0',
    'iotlb_update,,0xff000,0x2000,0,ro,0x7f0000100000,,,,-EEXIST',
    'iotlb_batch_end,,,,0,,,,,,0',
    'iotlb_invalidate,,0x100000,0x1000,0,,,,,,0',
    'iotlb_invalidate,,0x100000,0x1000,0,,,,,,0',
    'expect,,,,,iotlb.pinned,,,,,768',
    'vdpa_close,,,,,,,,,,0',
    'expect,,,,,iotlb.leaked,,,,,768',
    '',
  ].join('\n');

  it('leaks 768 pages under its own profile (leaky) with every recorded answer matching', async () => {
    const r = replayTrace(await parseTraceText(TEXT, 'killed.csv'));
    assert.equal(r.profile, 'x86-tdp,vdpa-release=leaky');
    assert.deepEqual(r.divergences, []);
    assert.equal(r.counters['iotlb.leaked_maps'], 2);
  });

  it('under clean, the in-trace expectation of a leak fails at its line', async () => {
    const r = replayTrace(await parseTraceText(TEXT, 'killed.csv'), parseProfile('x86-tdp'));
    assert.deepEqual(
      r.divergences.map((d) => [d.line, d.expected, d.got]),
      [[14, 'iotlb.leaked = 768', 'iotlb.leaked = 0']],
    );
  });
});
