import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { assertBytesAgreeWithCells } from '../helpers/push-lines.js';
import { replayTrace } from '../../src/replay/engine.js';
import { accessForm, chunksOf, TraceBuilder, type AccessForm } from '../../src/trace/builder.js';
import { formatTraceText } from '../../src/trace/io.js';
import { findGenerator } from '../../src/trace/generators/index.js';
import { rowAt, rowCells, type TraceRow } from '../../src/trace/row.js';
import { COLUMN_LAYOUT } from '../../src/trace/chunk.js';
import { OP, type TraceChunk } from '../../src/trace/schema.js';

test('pushAccess stores exactly what push stores for the same access row', () => {
  const slow = new TraceBuilder(8);
  const fast = new TraceBuilder(8);
  const cases: Array<[number, number, number, number]> = [
    [OP.read, 0, 0, 1],
    [OP.write, 3, 0x12345, 7],
    [OP.exec, 4095, 2 ** 40 - 1, 2 ** 28 - 1],
    [OP.write, 1, 0xfffff, 0x100001],
  ];
  for (const [op, vcpu, gfn, pages] of cases) {
    slow.push({ op: op === OP.read ? 'read' : op === OP.write ? 'write' : 'exec', vcpu, gpa: BigInt(gfn) * 4096n, size: BigInt(pages) * 4096n });
    fast.pushAccess(op, vcpu, gfn, pages);
  }
  const [a] = slow.finish();
  const [b] = fast.finish();
  for (let i = 0; i < cases.length; i++) {
    assert.deepEqual(rowAt(b!, i), rowAt(a!, i));
    assert.equal(b!.present[i], a!.present[i]);
    assert.equal(b!.line[i], a!.line[i]);
  }
});

test('pushAccess in each form stores exactly the chunk that the same row as CSV cells gives', () => {
  const hex = (n: number): string => `0x${n.toString(16)}`;
  const forms: Array<[AccessForm, (n: number) => string, string]> = [
    [accessForm(false), String, ''],
    [accessForm(true), hex, ''],
    [accessForm(true, 'ok'), hex, 'ok'],
    [accessForm(false, 'mmio'), String, 'mmio'],
  ];
  for (const [form, text, ret] of forms) {
    const slow = new TraceBuilder(4);
    const fast = new TraceBuilder(4);
    for (const [op, vcpu, gfn, pages] of [[OP.read, 0, 0, 1], [OP.write, 7, 0x123456789, 3], [OP.exec, 1, 2 ** 40 - 1, 2 ** 28 - 1]] as const) {
      const name = op === OP.read ? 'read' : op === OP.write ? 'write' : 'exec';
      slow.pushCells([name, String(vcpu), text(gfn * 4096), text(pages * 4096), '', '', '', '', '', '', ret], slow.rowCount + 1);
      fast.pushAccess(op, vcpu, gfn, pages, form);
    }
    assert.deepEqual(fast.finish(), slow.finish());
  }
});

test('pushAccess refuses what is not a valid access row', () => {
  const b = new TraceBuilder(8);
  assert.throws(() => b.pushAccess(OP.memslot, 0, 0, 1), /not a valid access row/);
  assert.throws(() => b.pushAccess(OP.read, 0, 2 ** 40, 1), /not a valid access row/);
  assert.throws(() => b.pushAccess(OP.read, 0, 0, 0), /not a valid access row/);
  assert.throws(() => b.pushAccess(OP.read, 0, 0, 2 ** 28), /not a valid access row/);
  assert.throws(() => b.pushAccess(OP.read, 0, 1.5, 1), /not a valid access row/);
  assert.throws(() => b.pushAccess(OP.read, 0, 0, 2.5), /not a valid access row/);
  assert.throws(() => b.pushAccess(OP.read, -1, 0, 1), /not a valid access row/);
  assert.equal(b.rowCount, 0);
});

test('chunksOf hands on full chunks as rows come, then the rest', () => {
  const rows = Array.from({ length: 10 }, (_, k) => ({ op: 'read' as const, gpa: BigInt(k) * 4096n }));
  const chunks = [...chunksOf(rows, 't', 4)];
  assert.deepEqual(chunks.map((c) => [c.firstRow, c.length]), [[0, 4], [4, 4], [8, 2]]);
});

test('the scale generator: exactly N events, its chunks and rows agree, and it replays with no divergence', () => {
  const trace = findGenerator('scale')!.generate({ events: 5000, guestGiB: 2, seed: 3 });
  const chunks = [...trace.chunks!()];
  assert.equal(chunks.reduce((n, c) => n + c.length, 0), 5000);
  const rows = [...trace.rows];
  assert.deepEqual(rows.slice(0, 50), Array.from({ length: 50 }, (_, i) => rowAt(chunks[0]!, i)));
  const result = replayTrace({ meta: trace.meta, chunks });
  assert.deepEqual(result.divergences, []);
  assert.equal(result.counters['events'], 5000);
  assert.ok(result.counters['faults']! > 0 && result.counters['dirty.pages']! > 0 && result.counters['zaps']! > 0);
});

test('chunks reused by a consumer that keeps nothing hold the same rows as fresh ones', () => {
  const trace = findGenerator('scale')!.generate({ events: 300_000, guestGiB: 2, seed: 5 });
  const fresh = [...trace.chunks!()].map((c) => formatTraceText(trace.meta, [c]));
  const reused: string[] = [];
  const buffers = new Set<ArrayBuffer>();
  for (const c of trace.chunks!({ reuse: true })) {
    reused.push(formatTraceText(trace.meta, [c]));
    buffers.add(c.buffer);
  }
  assert.deepEqual(reused, fresh);
  assert.ok(buffers.size < fresh.length, `${buffers.size} buffers for ${fresh.length} chunks`);
  const rows = Array.from({ length: 10 }, (_, k) => ({ op: 'read' as const, gpa: BigInt(k) * 4096n, ...(k === 5 ? { vcpu: 2 } : {}) }));
  const texts = (reuse: boolean): string[] => {
    const out: string[] = [];
    for (const c of chunksOf(rows, 't', 4, reuse)) out.push(formatTraceText({ comments: [], fields: {} }, [c]));
    return out;
  };
  assert.deepEqual(texts(true), texts(false));
});

test('a reused chunk, zeroed or not, holds exactly what a fresh chunk holds', () => {
  // Chunks of 3 rows cycle through two buffers; a chunk of access rows only is reused without zeroing,
  // so an object row written over an access row must not inherit its vcpu, gpa, size or ret.
  const access = fc.tuple(fc.constantFrom(OP.read, OP.write), fc.nat({ max: 9 }), fc.nat({ max: 2 ** 40 - 1 }), fc.integer({ min: 1, max: 99 }), fc.constantFrom(accessForm(false), accessForm(true, 'ok')));
  const object = fc.constantFrom<TraceRow>(
    { op: 'memslot', slot: 2, flags: 'log', gpa: 0x100000n, size: 0x200000n, hva: 0x7f0000000000n, ret: 0 },
    { op: 'expect', flags: 'leaves.4k', ret: 5 },
    { op: 'dirty_get', slot: 1 },
    { op: 'read', gpa: 0x1000n },
  );
  const row = fc.oneof(access.map((a) => ({ a })), object.map((o) => ({ o })));
  const snapshots = (rows: Array<{ a?: [number, number, number, number, AccessForm]; o?: TraceRow }>, reuse: boolean): unknown[] => {
    const out: unknown[] = [];
    const ready: TraceChunk[] = [];
    const b = new TraceBuilder(3, 't', (c) => ready.push(c));
    const take = (): void => {
      for (const c of ready.splice(0)) {
        out.push(snapshot(c));
        if (reuse) b.reuse(c);
      }
    };
    for (const r of rows) {
      if (r.a) b.pushAccess(...r.a);
      else b.push(r.o!);
      take();
    }
    b.finish();
    take();
    return out;
  };
  fc.assert(
    fc.property(fc.array(row, { maxLength: 40 }), (rows) => {
      assert.deepEqual(snapshots(rows, true), snapshots(rows, false));
    }),
    { numRuns: 500 },
  );
});

/** Every column of a chunk's rows, its side tables and its place: what a consumer may read of it. */
function snapshot(c: TraceChunk): unknown {
  const columns = COLUMN_LAYOUT.map(([name]) => Array.from((c[name] as Uint32Array).subarray(0, c.length)));
  return { columns, verbatim: [...c.verbatim], names: [...c.names], firstRow: c.firstRow, length: c.length };
}

test('push(row) stores exactly what the row\'s cell texts store, and fails with the same error', () => {
  const big = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: -5n, max: (1n << 65n) }), fc.constantFrom(0n, 4096n));
  const small = fc.oneof(fc.nat({ max: 0xffffffff }), fc.integer({ min: -3, max: 2 ** 33 }), fc.constantFrom(0, 1.5, -0));
  const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined, freq: 3 });
  const row = fc.record({
    op: fc.constantFrom('read', 'write', 'memslot', 'backing', 'expect', 'gmem_create', 'attrs', 'dirty_get', 'bogus') as fc.Arbitrary<TraceRow['op']>,
    vcpu: opt(small),
    gpa: opt(big),
    size: opt(big),
    slot: opt(small),
    flags: opt(fc.oneof(big, fc.constantFrom('log', 'ro|log', 'thp', 'leaves.4k', 'nope'))),
    hva: opt(big),
    fd: opt(small),
    offset: opt(big),
    attrs: opt(fc.oneof(big, fc.constantFrom('private', 'x'))),
    ret: opt(fc.oneof(fc.integer({ min: -40, max: 1 << 30 }), fc.constantFrom(-0, 2 ** 60, 1.5, 'ok', 'mmio', '-EINVAL', '-EBOGUS'))),
  });
  fc.assert(
    fc.property(fc.array(row, { minLength: 1, maxLength: 6 }), (rows) => {
      const direct = new TraceBuilder(4, 'f');
      const cells = new TraceBuilder(4, 'f');
      for (const r of rows) {
        const clean = Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as unknown as TraceRow;
        let a: unknown;
        let b: unknown;
        try {
          direct.push(clean);
        } catch (err) {
          a = (err as Error).message;
        }
        try {
          cells.pushCells(rowCells(clean), cells.rowCount + 1);
        } catch (err) {
          b = (err as Error).message;
        }
        assert.equal(a, b);
      }
      assert.deepEqual(direct.finish(), cells.finish());
    }),
    { numRuns: 3000 },
  );
});

test('pushLineBytes stores exactly what pushCells stores for the split line, and fails with the same error', () => {
  const cell = fc.oneof(
    fc.constantFrom('', '0', '00', '7', '-0', '-5', '-05', '0x0', '0x00', '0X1f', '0xABC', '0x1000', 'ok', 'mmio', 'pabt', 'okay', '-EINVAL', 'log|ro', 'thp', 'private', 'x y', '99999999999999999999', '0xffffffffffffffff', '0x10000000000000000', '4294967296', '123456789012345', '1234567890123456', 'é', '0x1é', '１', '-0x10', 'ok\u00e9'),
    fc.nat().map(String),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((v) => `0x${v.toString(16)}`),
  );
  const op = fc.constantFrom('read', 'write', 'exec', 'memslot', 'backing', 'expect', 'dirty_get', 'reed', 'r', '');
  const line = fc.tuple(op, fc.array(cell, { minLength: 9, maxLength: 11 })).map(([o, cells]) => [o, ...cells].join(','));
  fc.assert(
    fc.property(fc.array(line, { minLength: 1, maxLength: 5 }), (lines) => {
      assertBytesAgreeWithCells(lines, 2);
    }),
    { numRuns: 3000 },
  );
});
