// Property: whatever sequence of conversions, punches and accesses, every stage-2 leaf maps a range
// whose gfns are all of the leaf's kind (private leaf: all private; shared leaf: all shared), accesses
// exit exactly when the access's kind differs from the gfn's attribute, and the huge mapping comes
// back whenever its range is uniform.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';

import { OUTCOME_MEMFAULT, OUTCOME_OK } from '../../src/core/outcome.js';
import { LEVEL_PAGES } from '../../src/core/stage2/pte.js';
import { GiB } from '../core/vm-helpers.js';
import { PRIVATE, gfnOf, leafAt, privateVm, touch } from './private-vm.js';

const BASE = gfnOf(GiB);
const PAGES = 512 * 512;

const op = fc.oneof(
  fc.record({ kind: fc.constant('convert' as const), page: fc.nat(PAGES - 1), len: fc.integer({ min: 1, max: 1100 }), priv: fc.boolean() }),
  // Accesses land near the last conversion, where the mixed ranges are.
  fc.record({ kind: fc.constant('access' as const), delta: fc.integer({ min: -600, max: 1700 }), priv: fc.boolean() }),
  fc.record({ kind: fc.constant('punch' as const), page: fc.nat(PAGES - 1), len: fc.integer({ min: 1, max: 600 }) }),
);

function check(profile: string): void {
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
      const vm = privateVm(profile, GiB, GiB);
      const ref = new Uint8Array(PAGES).fill(1); // 1 = private
      let near = 0;
      for (const o of ops) {
        if (o.kind === 'convert') {
          near = o.page;
          const len = Math.min(o.len, PAGES - o.page);
          const r = vm.setMemoryAttributes(GiB + (BigInt(o.page) << 12n), BigInt(len) << 12n, o.priv ? PRIVATE : 0n, 0n);
          assert.equal(r, 0);
          ref.fill(o.priv ? 1 : 0, o.page, o.page + len);
        } else if (o.kind === 'punch') {
          assert.equal(vm.gmemFallocate(1, true, BigInt(o.page) << 12n, BigInt(o.len) << 12n), 0);
        } else {
          const page = Math.min(PAGES - 1, Math.max(0, near + o.delta));
          const out = touch(vm, BASE + page, o.priv);
          assert.equal(out, (ref[page] === 1) === o.priv ? OUTCOME_OK : OUTCOME_MEMFAULT);
          if (out === OUTCOME_OK) {
            const leaf = leafAt(vm, BASE + page)!;
            const pages = LEVEL_PAGES[leaf.level]!;
            const start = page - (page % pages);
            const want = leaf.private ? 1 : 0;
            for (let p = start; p < start + pages; p++) assert.equal(ref[p], want, `leaf at level ${leaf.level} spans gfn ${p}`);
            assert.equal(leaf.private, o.priv);
          }
        }
      }
    }),
    { numRuns: 60 },
  );
}

describe('private memory invariants under random conversions', () => {
  for (const profile of ['x86-tdp,gmem-folio=2m,vm-type=sw-protected', 'x86-tdp,gmem-folio=1g,vm-type=sw-protected', 'x86-tdp,gmem-folio=1g,gmem-split=4k,vm-type=sw-protected']) {
    it(`no leaf spans mixed attributes; exits exactly on mismatch (${profile})`, () => check(profile));
  }

  it('a uniform 1G range maps 1G again after being mixed (gmem-folio=1g, either split policy)', () => {
    for (const profile of ['x86-tdp,gmem-folio=1g,gmem-split=minimal,vm-type=sw-protected', 'x86-tdp,gmem-folio=1g,gmem-split=4k,vm-type=sw-protected']) {
      const vm = privateVm(profile, GiB, GiB);
      vm.setMemoryAttributes(GiB + 0x523000n, 0x5000n, 0n, 0n);
      touch(vm, BASE);
      assert.equal(leafAt(vm, BASE)!.level, profile.includes('gmem-split=4k') ? 0 : 1, profile);
      vm.setMemoryAttributes(GiB + 0x523000n, 0x5000n, PRIVATE, 0n);
      vm.setMemoryAttributes(GiB, 0x1000n, 0n, 0n); // zap the small leaf at BASE...
      vm.setMemoryAttributes(GiB, 0x1000n, PRIVATE, 0n); // ...and make it private again
      touch(vm, BASE);
      assert.equal(leafAt(vm, BASE)!.level, 2, profile);
    }
  });
});
