// The host's fill cursor (HostMemory.writeNext(), uffdNext()): userfaultfd faults in order extend it instead of each
// updating the page map, and it ends where its registration ends, at a page already held, and at a new
// registration, with the page states and fault counts a page-by-page fill gives.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOST_MISSING, HOST_PRESENT, HOST_RW, HostMemory, UFFD_PAGE } from '../../src/core/hostmm.js';

const BASE = 0x7f0000000; // hva page numbers are past 2^31

test('a userfaultfd cursor fills in order up to its registration end and a page already held', () => {
  const host = new HostMemory();
  host.registerUffd(BASE, 100, UFFD_PAGE);
  host.unmap(BASE, 100);
  host.hostTouch(BASE + 50, 1, true, true, () => {}); // page 50 held (populated by a VMM write)
  assert.equal(host.uffdFault(BASE), 1); // starts the cursor
  for (let p = 1; p < 50; p++) assert.ok(host.uffdNext(BASE + p), `page ${p}`);
  assert.equal(host.uffdNext(BASE + 50), false, 'a held page ends the cursor');
  assert.equal(host.uffdFault(BASE + 50), 0);
  assert.equal(host.uffdFault(BASE + 51), 1);
  for (let p = 52; p < 100; p++) assert.equal(host.uffdFault(BASE + p), 1);
  assert.equal(host.uffdNext(BASE + 100), false, 'the registration ends the cursor');
  assert.equal(host.uffdFault(BASE + 100), 0, 'past the registration: no handler');
  for (let p = 0; p < 100; p++) assert.equal(host.pageState(BASE + p), HOST_PRESENT, `page ${p}`);
  assert.equal(host.pageState(BASE + 100), HOST_MISSING);
});

test('a write cursor is no userfaultfd cursor, and a new registration ends it', () => {
  const host = new HostMemory();
  assert.equal(host.touch(BASE, true, true), HOST_RW);
  assert.ok(host.writeNext(BASE + 1));
  assert.equal(host.uffdNext(BASE + 2), false, 'no handler fills a write cursor page');
  host.registerUffd(BASE + 2, 10, UFFD_PAGE);
  assert.equal(host.writeNext(BASE + 2), false);
  assert.equal(host.uffdFault(BASE + 2), 1, 'the page faults to the new registration');
  assert.equal(host.pageState(BASE + 1), HOST_PRESENT);
});
