// The stage-2 table pool is reserved for what the memslots can need (Stage2.reserveTables()), not grown
// while they fill, and the model memory bound counts the tables handed out, not the reservation.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACCESS_WRITE, OUTCOME_OK } from '../../src/core/outcome.js';
import { ModelMemoryError, withModelMemoryLimit } from '../../src/core/model-memory.js';
import { TABLE_BYTES } from '../../src/core/stage2/table.js';
import { addSlot, GiB, gfn, KiB4, metric, MiB2, newVm } from './vm-helpers.js';

const HVA = 0x7f0000000000n;

for (const profile of ['x86-tdp', 'arm64-s2']) {
  test(`${profile}: a slot written whole needs the tables tablesCovering() bounds, and the pool is not regrown`, () => {
    const vm = newVm(profile);
    // Not aligned to 1G or 2M at either end, so the bound counts partial tables at every level.
    const gpa = GiB - 3n * MiB2 + 5n * KiB4;
    const size = GiB + 7n * MiB2;
    addSlot(vm, 1, gpa, size, HVA + (gpa % GiB));
    const pool = vm.stage2.pool;
    const pages = Number(size / KiB4);
    // The host maps the slot with 4K pages only, so every page gets a 4K leaf.
    assert.equal(vm.accessRange(0, gfn(gpa), pages, ACCESS_WRITE, 0), OUTCOME_OK);
    assert.equal(metric(vm, 'leaves.4k'), pages);
    const s2 = vm.stage2;
    assert.equal(metric(vm, 'tables.peak'), s2.rootTables + s2.tablesCovering(gfn(gpa), gfn(gpa) + pages));
    assert.equal(vm.stage2.pool, pool, 'the pool reserved at the memslot row held every table');
  });
}

test('the model memory counts the tables handed out, not the pool reserved for a large slot', () => {
  const vm = newVm();
  const before = vm.modelBytes();
  addSlot(vm, 1, 0x100000000n, 1n << 40n, 0x100000000000n);
  assert.ok(vm.stage2.pool.byteLength >= 2 ** 30, 'a 1 TiB slot reserves a large pool');
  assert.equal(vm.modelBytes(), before);
  // One page: a table at each level below the root.
  vm.accessRange(0, gfn(0x100000000n), 1, ACCESS_WRITE, 0);
  assert.equal(vm.modelBytes() - before, 3 * TABLE_BYTES);
});

test('a write past the model memory limit fails growing the table pool, before its tables are handed out', () => {
  const vm = newVm();
  addSlot(vm, 1, 0x100000000n, 1n << 40n, 0x100000000000n);
  const limit = vm.modelBytes() + 1000 * TABLE_BYTES;
  assert.throws(
    () => withModelMemoryLimit(limit, () => vm.modelBytes(), () => vm.accessRange(0, gfn(0x100000000n), 1 << 20, ACCESS_WRITE, 0)),
    (err: unknown) => err instanceof ModelMemoryError && err.what === 'stage-2 table pool',
  );
  assert.ok(vm.modelBytes() <= limit, `held ${vm.modelBytes()} over the limit ${limit}`);
  // The bound is asked in steps of an eighth: the tables up to within a step of the limit were handed out.
  assert.ok(metric(vm, 'tables.peak') > (1000 * 7) / 8, `${metric(vm, 'tables.peak')} tables`);
});
