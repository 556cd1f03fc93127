// The arm64 stage-2 fault matrix of KVM's selftest page_fault_test.c (docs/page-fault-test.md,
// rows 50-65 from the selftest's tests[]): every row, for every backing the selftest's -s takes here,
// replayed under arm64-s2 with the events the selftest asserts as expect rows and dirty_get checks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replayTrace } from '../../src/replay/engine.js';
import { TraceBuilder } from '../../src/trace/builder.js';
import { PAGE_FAULT_TEST_ROWS, generatePageFaultTest, type PftBacking } from '../../src/trace/generators/page-fault-test.js';
import { KERNEL_VERSIONS, parseProfile } from '../../src/core/profile.js';

const BACKINGS: PftBacking[] = ['anon', 'thp', 'hugetlb2m', 'shmem'];

test("the matrix has the selftest's 65 rows", () => {
  assert.equal(PAGE_FAULT_TEST_ROWS.length, 65);
  const events = PAGE_FAULT_TEST_ROWS.map((r) => `${r.expect.uffd}${r.expect.mmio}${r.expect.fail}`).join(' ');
  assert.equal(events.split(' ').filter((e) => e === '200').length, 19); // rows 15-23 and 33-41 but at, 58, 59, 61
  assert.equal(PAGE_FAULT_TEST_ROWS[45]!.expect.mmio, 1); // row 46: write64 to a read-only slot
});

// Every modeled kernel version, with the default 40-bit IPA (a 3-level stage-2).
for (const backing of BACKINGS) {
  test(`page_fault_test matrix, backing ${backing}: every row's events as the selftest expects, every version`, () => {
    const failures: string[] = [];
    for (const row of PAGE_FAULT_TEST_ROWS) {
      const builder = new TraceBuilder(1024, `page-fault-test row ${row.n}`);
      for (const r of generatePageFaultTest(row, backing)) builder.push(r);
      const chunks = builder.finish();
      for (const version of KERNEL_VERSIONS) {
        const result = replayTrace({ meta: { comments: [], fields: {} }, chunks }, parseProfile(`arm64-s2@${version}`));
        for (const d of result.divergences) failures.push(`${version} row ${row.n} (${row.access}): line ${d.line} ${d.op}: expected ${d.expected}, got ${d.got}`);
      }
    }
    assert.deepEqual(failures, []);
  });
}
