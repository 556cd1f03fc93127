// The replay engine: rows dispatched to the model, recorded results and `expect` rows compared, the
// profile taken from the trace when none is given.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { replayTrace, type ReplayResult } from '../../src/replay/engine.js';
import { parseTraceText } from '../../src/trace/io.js';
import { parseProfile } from '../../src/core/profile.js';

const HEADER = '# s2bench trace v1\nop,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\n';

async function replay(body: string, profile?: string, meta = ''): Promise<ReplayResult> {
  return replayTrace(await parseTraceText(HEADER.replace('\n', `\n${meta}`) + body), profile === undefined ? undefined : parseProfile(profile));
}

describe('replay engine', () => {
  it('touches every 4K page of a large access and counts each event once', async () => {
    const result = await replay(
      [
        'backing,,,0x400000,,thp,0x7f0000000000,,,,',
        'memslot,,0,0x400000,0,,0x7f0000000000,,,,0',
        // Pages 1..1023: the first fault of each 2M range maps all of it.
        'write,0,0x1000,0x3ff000,,,,,,,ok',
        'expect,,,,,leaves.2m,,,,,2',
        'expect,,,,,leaves.4k,,,,,0',
        'expect,,,,,mapped.2m,,,,,4194304',
        'expect,,,,,accesses,,,,,1023',
      ].join('\n'),
    );
    assert.deepEqual(result.divergences, []);
    assert.equal(result.counters['events'], 7);
    assert.equal(result.counters['faults'], 2);
  });

  it('ends an access row at its first exit and reports that outcome', async () => {
    const result = await replay(
      ['memslot,,0,0x2000,0,,0x7f0000000000,,,,0', 'read,0,0x0,0x4000,,,,,,,mmio', 'expect,,,,,accesses,,,,,3'].join('\n'),
    );
    assert.deepEqual(result.divergences, []);
    assert.equal(result.counters['exits.mmio'], 1);
  });

  it('lists each divergence with its line, op, expected and actual answer', async () => {
    const result = await replay(
      [
        'memslot,,0,0x2000,0,,0x7f0000000000,,,,-EEXIST',
        'read,0,0x10000,,,,,,,,ok',
        'dirty_get,,,,0,,,,,,3',
        'expect,,,,,faults,,,,,2',
      ].join('\n'),
    );
    assert.deepEqual(result.divergences, [
      { line: 3, op: 'memslot', expected: '-EEXIST', got: '0' },
      { line: 4, op: 'read', expected: 'ok', got: 'mmio' },
      { line: 5, op: 'dirty_get', expected: '3', got: '-ENOENT' },
      { line: 6, op: 'expect', expected: 'faults = 2', got: 'faults = 1' },
    ]);
    assert.equal(result.counters['divergences'], 4);
  });

  it("uses the trace's profile unless one is given", async () => {
    const body = 'memslot,,0,0x2000,0,ro,0x7f0000000000,,,,0\nwrite,0,0x0,,,nisv,,,,,';
    const own = await replay(body, undefined, '# profile: arm64-s2\n');
    assert.equal(own.profile, 'arm64-s2');
    assert.equal(own.counters['runs.enosys'], 1);
    const given = await replay(body, 'x86-tdp', '# profile: arm64-s2\n');
    assert.equal(given.profile, 'x86-tdp');
    assert.equal(given.counters['exits.mmio'], 1);
    const none = await replay(body);
    assert.equal(none.profile, 'x86-tdp');
  });
});
