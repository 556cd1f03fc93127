// A VMM access over userfaultfd-registered memory (HostMemory.uffdFaults()) steps over stretches of one
// page state instead of visiting every page: checked against the page-by-page loop it replaced (same
// faults, same page states after), and on a 1 TiB sweep whose cost must follow its stretches.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';

import { HostMemory, UFFD_PAGE } from '../../src/core/hostmm.js';

const SPACE = 512 * 24;

/** The loop uffdFaults() replaced: one lookup per page. */
function pageByPage(host: HostMemory, start: number, npages: number): number {
  let faults = 0;
  for (let pfn = start; pfn < start + npages; pfn++) {
    const reg = host.uffdMissing(pfn);
    if (reg >= 0) {
      faults++;
      host.uffdFill(reg, pfn);
    }
  }
  return faults;
}

describe('userfaultfd sweep of a host access', () => {
  it('takes the faults and leaves the page states of the page-by-page loop', () => {
    const range = fc.tuple(fc.nat(SPACE - 1), fc.integer({ min: 1, max: 3000 }));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(range, fc.boolean()), { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(range, fc.boolean()), { maxLength: 8 }),
        fc.array(range, { minLength: 1, maxLength: 6 }),
        (registrations, touches, sweeps) => {
          const a = new HostMemory();
          const b = new HostMemory();
          for (const host of [a, b]) {
            for (const [[start, len], perPage] of registrations) host.registerUffd(start, Math.min(len, SPACE - start), perPage ? UFFD_PAGE : 0);
            for (const [[start, len], write] of touches) host.hostTouch(start, Math.min(len, SPACE - start), write, true, () => {});
          }
          for (const [start, len] of sweeps) {
            const n = Math.min(len, SPACE - start);
            assert.equal(a.uffdFaults(start, n), pageByPage(b, start, n));
          }
          for (let p = 0; p < SPACE; p++) assert.equal(a.pageState(p), b.pageState(p), `page ${p}`);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('sweeps 1 TiB of registered, mostly populated memory by its stretches', () => {
    const host = new HostMemory();
    const TIB_PAGES = 2 ** 28;
    host.registerUffd(0, TIB_PAGES, 0);
    host.hostTouch(0, TIB_PAGES, true, true, () => {}); // populated: nothing left to fault
    host.registerUffd(TIB_PAGES, 512, UFFD_PAGE); // a second, missing registration: 512 faults
    assert.equal(host.uffdFaults(0, TIB_PAGES + 512), 512);
    assert.equal(host.uffdFaults(0, TIB_PAGES + 512), 0);
  });
});
