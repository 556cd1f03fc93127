import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY } from '../../src/core/abi.js';
import { replayTrace } from '../../src/replay/engine.js';
import { TraceBuilder } from '../../src/trace/builder.js';
import { findGenerator, GENERATORS, type GeneratorValues } from '../../src/trace/generators/index.js';
import type { TraceRow } from '../../src/trace/row.js';

function run(name: string, values: GeneratorValues = {}): { rows: TraceRow[]; divergences: number; counters: Record<string, number> } {
  const trace = findGenerator(name)!.generate(values);
  const builder = new TraceBuilder();
  for (const row of trace.rows) builder.push(row); // validates every row
  const result = replayTrace({ meta: trace.meta, chunks: builder.finish() });
  return { rows: [...trace.rows], divergences: result.divergences.length, counters: result.counters };
}

const count = (rows: TraceRow[], op: string, pred: (r: TraceRow) => boolean = () => true): number =>
  rows.filter((r) => r.op === op && pred(r)).length;

describe('generator registry', () => {
  it('lists each generator with the selftest it models', () => {
    assert.deepEqual(
      GENERATORS.map((g) => g.name),
      ['memslots', 'dirty-log', 'demand-paging', 'boot', 'conversions', 'vdpa', 'hypshare', 'page-fault-test', 'scale'],
    );
    assert.match(findGenerator('page-fault-test')!.summary, /page_fault_test/);
    assert.match(findGenerator('memslots')!.summary, /memslot_perf_test/);
    assert.match(findGenerator('dirty-log')!.summary, /dirty_log_perf_test/);
    assert.match(findGenerator('demand-paging')!.summary, /demand_paging_test/);
  });

  it('rejects unknown options and out-of-range values by name', () => {
    assert.throws(() => findGenerator('memslots')!.generate({ slotz: 3 }), /memslots: unknown option slotz/);
    assert.throws(() => findGenerator('memslots')!.generate({ slots: 40000 }), /slots must be <= 32764/);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const a = findGenerator('memslots')!.generate({ seed: 7, slots: 4, accesses: 50 });
    const b = findGenerator('memslots')!.generate({ seed: 7, slots: 4, accesses: 50 });
    const c = findGenerator('memslots')!.generate({ seed: 8, slots: 4, accesses: 50 });
    assert.deepEqual([...a.rows], [...b.rows]);
    assert.notDeepEqual([...a.rows], [...c.rows]);
  });
});

describe('memslots (memslot_perf_test)', () => {
  it('creates exactly `slots` slots, moves `moves` times, makes `accesses` RW accesses, and replays clean', () => {
    const { rows, divergences, counters } = run('memslots', { slots: 10, slotPages: 8, moves: 3, accesses: 25 });
    assert.equal(count(rows, 'memslot'), 10 + 3);
    assert.equal(count(rows, 'unmap_hva'), 10);
    // After the last move: its read and the MMIO read of the vacated range, then the RW phase.
    const lastMemslot = rows.map((r) => r.op).lastIndexOf('memslot');
    const rw = rows.slice(lastMemslot + 3);
    assert.equal(rw.filter((r) => r.op === 'read' || r.op === 'write').length, 25);
    assert.equal(divergences, 0);
    assert.equal(counters['exits.mmio'], 3);
  });
});

describe('dirty-log (dirty_log_perf_test)', () => {
  it('has one get (and clear) per iteration, each reporting the pages written, and replays clean', () => {
    const { rows, divergences } = run('dirty-log', { vcpus: 3, vcpuPages: 64, iterations: 4, writePercent: 50, seed: 3 });
    assert.equal(count(rows, 'dirty_get'), 4);
    assert.equal(count(rows, 'dirty_clear'), 4);
    // The rows are read back from the generated chunks: a memslot's flags as their number.
    assert.equal(count(rows, 'memslot', (r) => r.flags === BigInt(KVM_MEM_LOG_DIRTY_PAGES)), 1);
    // Every page is touched once per round by its vCPU.
    const touched = rows.filter((r) => (r.op === 'read' || r.op === 'write')).reduce((n, r) => n + Number(r.size) / 4096, 0);
    assert.equal(touched, 3 * 64 * 5);
    assert.equal(divergences, 0);
  });

  it('with THP backing and full writes no 2M mapping survives logging', () => {
    const { divergences, counters } = run('dirty-log', { backing: 'thp', vcpuPages: 1024, iterations: 2 });
    assert.equal(divergences, 0);
    assert.equal(counters['mapped.2m'], 0);
  });
});

describe('demand-paging (demand_paging_test)', () => {
  it('registers one uffd range per vCPU and takes one userfaultfd fault per page', () => {
    const { rows, divergences, counters } = run('demand-paging', { vcpus: 3, vcpuPages: 40, chunkPages: 16 });
    assert.equal(count(rows, 'uffd'), 3);
    assert.equal(count(rows, 'write'), 3 * 3);
    assert.equal(divergences, 0);
    assert.equal(counters['uffd.faults'], 120);
    assert.equal(counters['leaves.4k'], 120);
  });

  it('without uffd takes no userfaultfd faults', () => {
    const { rows, divergences, counters } = run('demand-paging', { vcpus: 2, vcpuPages: 16, uffd: false });
    assert.equal(count(rows, 'uffd'), 0);
    assert.equal(divergences, 0);
    assert.equal(counters['uffd.faults'], 0);
  });
});

describe('boot (QEMU-like)', () => {
  it('lays out the recorded QEMU split, logs the framebuffer, and replays clean', () => {
    const { rows, divergences, counters } = run('boot', { ramMiB: 16, frames: 5, vgaKiB: 64 });
    assert.equal(count(rows, 'memslot'), 8);
    // Read back from the generated chunks: a memslot's flags as their number.
    assert.equal(count(rows, 'memslot', (r) => r.flags === BigInt(KVM_MEM_READONLY)), 3);
    assert.equal(count(rows, 'memslot', (r) => r.flags === BigInt(KVM_MEM_LOG_DIRTY_PAGES)), 1);
    assert.equal(count(rows, 'dirty_get'), 5);
    assert.equal(divergences, 0);
    assert.equal(counters['exits.mmio'], 2);
  });
});

describe('boot leaves by backing', () => {
  for (const backing of ['thp', 'hugetlb2m', 'anon']) {
    it(`${backing}: the expect rows on mapping levels hold`, () => {
      const { rows, divergences, counters } = run('boot', { ramMiB: 32, frames: 0, backing });
      assert.equal(count(rows, 'expect'), 4);
      assert.equal(divergences, 0);
      assert.equal(counters['leaves.2m'], backing === 'anon' ? 0 : 15);
    });
  }
});
