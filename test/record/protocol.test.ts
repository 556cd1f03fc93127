// The recorder's driver without /dev/kvm: fuzz sequences are deterministic and valid trace rows, the
// line protocol encodes rows and decodes answers exactly, and ddmin finds minimal failing subsets.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzSequence, FUZZ_GPA_LIMIT } from '../../src/record/fuzz.js';
import { encodeSequence, fillRets, parseAnswers } from '../../src/record/protocol.js';
import { rowsToChunks } from '../../src/record/session.js';
import { ddmin } from '../../src/record/shrink.js';
import { formatTraceText } from '../../src/trace/io.js';
import { TRACE_MAGIC_LINE } from '../../src/trace/schema.js';

test('a fuzz sequence depends only on seed and index', () => {
  assert.deepEqual(fuzzSequence(7, 3), fuzzSequence(7, 3));
  assert.notDeepEqual(fuzzSequence(7, 3), fuzzSequence(7, 4));
  assert.notDeepEqual(fuzzSequence(7, 3), fuzzSequence(8, 3));
  assert.equal(fuzzSequence(1, 0, { rows: 50 }).length, 50);
});

test('fuzz rows are valid trace rows, and accesses stay below the recorder guest region', () => {
  const ops = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const rows = fuzzSequence(3, i);
    rowsToChunks(rows); // throws TraceError on an invalid row
    for (const row of rows) {
      ops.add(row.op);
      if (row.op === 'read' || row.op === 'write' || row.op === 'exec') {
        assert.ok(row.gpa! + (row.size ?? 0n) < FUZZ_GPA_LIMIT, `access at ${row.gpa}`);
      }
    }
  }
  assert.deepEqual(
    [...ops].sort(),
    ['backing', 'dirty_clear', 'dirty_get', 'exec', 'gmem_alloc', 'gmem_close', 'gmem_create', 'gmem_punch', 'host_write', 'memslot', 'read', 'unmap_hva', 'write'],
  );
});

test('rows go to the recorder as hex fields with the presence bits', () => {
  const chunks = rowsToChunks([
    { op: 'memslot', slot: 0x10001, gpa: 0x200000n, size: 0x1000n, hva: 0xffff800000000000n, flags: 'log|ro' },
    { op: 'write', vcpu: 0, gpa: 0x2010n },
  ]);
  assert.equal(
    encodeSequence(chunks),
    'S\nmemslot 7d 0 200000 1000 10001 3 ffff800000000000 0 0 0\nwrite 7 0 2010 0 0 0 0 0 0 0\nE\n',
  );
});

test("the kernel's answers become ret cells; unnamed exits leave the cell empty", () => {
  const chunks = rowsToChunks([
    { op: 'memslot', slot: 0, gpa: 0n, size: 0x1000n, hva: 0x7f0000000000n, flags: 'log', ret: 0 },
    { op: 'memslot', slot: 1, gpa: 0n, size: 0x1000n, hva: 0x7f0000000800n },
    { op: 'write', gpa: 0x10n },
    { op: 'read', gpa: 0x40000000n },
    { op: 'exec', gpa: 0x40000000n },
    { op: 'dirty_get', slot: 0 },
  ]);
  const [answer] = parseAnswers('i 0\ni -22\na ok\na mmio 0x40000000\na other internal_error_1\ni 1\nE\n');
  assert.deepEqual(answer!.rows[3], { kind: 'access', outcome: 'mmio', gpa: 0x40000000n });
  const unrecorded = fillRets(chunks, answer!.rows);
  assert.deepEqual(unrecorded, [{ row: 4, why: 'guest access ended in internal_error_1' }]);
  const text = formatTraceText({ comments: [TRACE_MAGIC_LINE], fields: {} }, chunks);
  assert.equal(
    text.split('\n').slice(2).join('\n'),
    [
      'memslot,,0x0,0x1000,0,log,0x7f0000000000,,,,0',
      'memslot,,0x0,0x1000,1,,0x7f0000000800,,,,-EINVAL',
      'write,,0x10,,,,,,,,ok',
      'read,,0x40000000,,,,,,,,mmio',
      'exec,,0x40000000,,,,,,,,',
      'dirty_get,,,,0,,,,,,1',
      '',
    ].join('\n'),
  );
});

test('a sequence the recorder refused carries its reason', () => {
  assert.deepEqual(parseAnswers('F cannot create a VM: Too many open files\nE\n'), [
    { rows: [], failure: 'cannot create a VM: Too many open files' },
  ]);
  assert.throws(() => parseAnswers('garbage\n'), /unexpected line: 'garbage'/);
  // The sequence's KVM_RUN time, printed before its E, belongs to that sequence only.
  assert.deepEqual(parseAnswers('a ok\nT 123456\nE\ni 0\nE\n'), [
    { rows: [{ kind: 'access', outcome: 'ok' }], guestNs: 123456 },
    { rows: [{ kind: 'ret', value: 0 }] },
  ]);
});

test('ddmin keeps only the rows a failure needs', async () => {
  const rows = Array.from({ length: 40 }, (_, i) => i);
  let calls = 0;
  const minimal = await ddmin(rows, async (c) => {
    calls++;
    return c.includes(7) && c.includes(31);
  });
  assert.deepEqual(minimal, [7, 31]);
  assert.ok(calls < 60, `${calls} candidate recordings`);
});
