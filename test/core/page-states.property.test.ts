// PageStates: 2-bit page states in per-2M bitmaps, markers and coarse runs, checked against a
// page-by-page reference over ranges that cross blocks, cover them whole, and exceed the coarse cut-off.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';

import { PageStates } from '../../src/core/page-states.js';

const SPACE = 512 * 160; // 160 blocks: whole-block ranges above the 64-block cut-off fit.

describe('PageStates', () => {
  it('agrees with a page-by-page reference on random set sequences', () => {
    const range = fc.oneof(
      fc.tuple(fc.nat(SPACE - 1), fc.nat(1100)), // within a block or across a few
      fc.tuple(fc.nat(159).map((b) => b * 512), fc.nat(100).map((n) => n * 512)), // whole blocks
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(range, fc.nat(3)), { maxLength: 40 }), fc.array(fc.tuple(fc.nat(SPACE - 1), fc.nat(3000)), { maxLength: 20 }), (sets, probes) => {
        const m = new PageStates();
        const ref = new Uint8Array(SPACE);
        for (const [[start, len], value] of sets) {
          const end = Math.min(SPACE, start + len);
          m.set(start, end, value);
          ref.fill(value, start, end);
        }
        for (let p = 0; p < SPACE; p += 7) assert.equal(m.get(p), ref[p], `page ${p}`);
        for (const [start, len] of probes) {
          const end = Math.min(SPACE, start + len + 1);
          let expect = start + 1;
          while (expect < end && ref[expect] === ref[start]) expect++;
          assert.equal(m.sameUntil(start, end), expect, `sameUntil(${start}, ${end})`);
          assert.equal(m.any(start, end), ref.subarray(start, end).some((v) => v !== 0), `any(${start}, ${end})`);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('holds pages near 2^52 and frees bitmaps once blocks are whole again', () => {
    const m = new PageStates();
    const top = 2 ** 52;
    m.set(top - 2, top, 1);
    assert.deepEqual([m.get(top - 3), m.get(top - 2), m.get(top - 1)], [0, 1, 1]);
    const held = m.bytes();
    m.set(top - 512, top, 0);
    for (let p = 0; p < 512; p++) m.set(512 + p, 513 + p, 2); // a block filled page by page
    assert.equal(m.sameUntil(512, 1024), 1024);
    assert.ok(m.bytes() <= held, 'filled or emptied blocks keep no extra bitmap');
  });

  it('a range of terabytes costs one coarse run', () => {
    const m = new PageStates();
    m.set(0, 2 ** 40, 2);
    m.set(5, 6, 1);
    assert.deepEqual([m.get(4), m.get(5), m.get(2 ** 40 - 1), m.get(2 ** 40)], [2, 1, 2, 0]);
    assert.equal(m.sameUntil(6, 2 ** 41), 2 ** 40);
    assert.ok(m.bytes() < 64 * 1024);
  });
});
