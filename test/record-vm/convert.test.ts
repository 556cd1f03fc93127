// The record stream -> trace rows, without KVM: hand-written records in the library's grammar
// (docs/record-vm.md), converted, and the rows replayed on the model.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmRecordConverter } from '../../src/record-vm/convert.js';
import { parseRecord, RecordError } from '../../src/record-vm/records.js';
import { backingRows, parseSmaps } from '../../src/record-vm/smaps.js';
import { replayTrace } from '../../src/replay/engine.js';
import { parseTraceText, formatTraceText } from '../../src/trace/io.js';
import { rowCells, type TraceRow } from '../../src/trace/row.js';
import { TraceBuilder } from '../../src/trace/builder.js';

function convert(lines: string[]): { rows: TraceRow[]; converter: VmRecordConverter } {
  const rows: TraceRow[] = [];
  const converter = new VmRecordConverter((row) => rows.push(row));
  lines.forEach((line, i) => converter.feed(parseRecord(line, i + 1)));
  converter.finish();
  return { rows, converter };
}

const csv = (rows: TraceRow[]): string[] => rows.map((r) => rowCells(r).join(','));

const VM_START = ['I 1f 1', 'V 10 1f 3 8', 'P 20 1f 8 9 0'];

test('memslots, first touches by a vCPU inside KVM_RUN and by the host, MMIO exits', () => {
  const { rows, converter } = convert([
    ...VM_START,
    'M 30 1f 8 0 0 0 0 8000000 7f0000000000 0 0 1',
    'N uffd on',
    'R 7f0000000000 8000000 ok',
    'M 31 1f 8 0 1 2 fffc0000 40000 7f0010000000 0 0 1',
    'U 40 1f 7f0010001000 1 -1', // the VMM's main thread loads the ROM
    'U 41 22 7f0000005000 0 0', // vCPU 0 reads gpa 0x5000
    'U 42 22 7f0000006000 1 0',
    'X 43 22 0 0 6 fed00000 4 1', // MMIO write
    'X 44 22 0 0 6 fffc0010 1 1', // write to the read-only BIOS slot: MMIO too
    'M 50 22 8 -22 2 0 1001 1000 7f0020000000 0 0 1',
    'Z 60 3 3',
  ]);
  assert.deepEqual(csv(rows), [
    'memslot,,0x0,0x8000000,0,0,0x7f0000000000,,,,0',
    'memslot,,0xfffc0000,0x40000,1,ro,0x7f0010000000,,,,0',
    'host_write,,,0x1000,,,0x7f0010001000,,,,',
    'read,0,0x5000,,,,,,,,ok',
    'write,0,0x6000,,,,,,,,ok',
    'write,0,0xfed00000,,,,,,,,mmio',
    'write,0,0xfffc0010,,,,,,,,mmio',
    'memslot,,0x1001,0x1000,2,0,0x7f0020000000,,,,-EINVAL',
  ]);
  assert.equal(converter.counts.guestFaults, 2);
  assert.equal(converter.counts.hostFaults, 1);
  assert.equal(converter.counts.libraryFaults, 3);
  assert.equal(converter.uffd, 'on');
});

test('a dirty log becomes write rows of its pages in gfn order, then dirty_get with the popcount; a clear its bits, then the masked call', () => {
  const { rows } = convert([
    ...VM_START,
    'Q 20 1f 8 0 a8 0 1',
    'Q 21 1f 8 -22 a8 0 2',
    'Q 22 1f 8 0 7b 0 1',
    'M 30 1f 8 0 5 1 100000 100000 7f0000000000 0 0 1',
    'D 40 1f 8 0 5 0 100 4',
    'B 0+1 10+2',
    'B ff+1',
    'E',
    'C 41 1f 8 0 5 40 40 3',
    'B 0+1 2+2',
    'E',
    'D 42 1f 8 -2 6 0 0 0',
    'E',
  ]);
  assert.deepEqual(csv(rows), [
    'enable_cap,,,,168,protect,,,,,0',
    'enable_cap,,,,168,init_set,,,,,-EINVAL',
    'memslot,,0x100000,0x100000,5,log,0x7f0000000000,,,,0',
    'write,,0x100000,0x1000,,,,,,,ok',
    'write,,0x110000,0x2000,,,,,,,ok',
    'write,,0x1ff000,0x1000,,,,,,,ok',
    'dirty_get,,,,5,,,,,,4',
    'dirty_clear,,,0x1,5,bits,,,0x40,,',
    'dirty_clear,,,0x2,5,bits,,,0x42,,',
    'dirty_clear,,,0x40,5,masked,,,0x40,,0',
    'dirty_get,,,,6,,,,,,-ENOENT',
  ]);
});

test('under manual protect a get writes only pages not known set: initially-set pages and re-reported ones are no writes', () => {
  const { rows } = convert([
    ...VM_START,
    'Q 20 1f 8 0 a8 0 3',
    'M 30 1f 8 0 5 1 0 10000 7f0000000000 0 0 1',
    'D 40 1f 8 0 5 0 10 10',
    'B 0+10',
    'E',
    'C 41 1f 8 0 5 0 10 4',
    'B 0+4',
    'E',
    'D 42 1f 8 0 5 0 10 d',
    'B 0+1 4+c',
    'E',
    'D 43 1f 8 0 5 0 10 d',
    'B 0+1 4+c',
    'E',
  ]);
  assert.deepEqual(csv(rows).slice(2), [
    'dirty_get,,,,5,,,,,,16',
    'dirty_clear,,,0x4,5,bits,,,0x0,,',
    'dirty_clear,,,0x10,5,masked,,,0x0,,0',
    'write,,0x0,0x1000,,,,,,,ok',
    'dirty_get,,,,5,,,,,,13',
    'dirty_get,,,,5,,,,,,13',
  ]);
});

test('a dirty log cut short by the end of the stream still gets its dirty_get row', () => {
  const { rows } = convert([...VM_START, 'M 30 1f 8 0 5 1 0 100000 7f0000000000 0 0 1', 'D 40 1f 8 0 5 0 100 2', 'B 0+2']);
  assert.deepEqual(csv(rows).slice(1), ['write,,0x0,0x2000,,,,,,,ok', 'dirty_get,,,,5,,,,,,2']);
});

test('guest_memfd: create, slot binding, fallocate, attributes and close; another VM is left out', () => {
  const { rows, converter } = convert([
    ...VM_START,
    'G 30 1f 8 12 200000 0',
    'M 31 1f 8 0 1 4 0 200000 7f0000000000 c 1000 2',
    'A 32 1f 8 0 0 200000 8 0',
    'F 33 1f 12 0 3 0 1000',
    'F 34 1f 12 0 1 0 1000',
    'F 35 1f 12 -95 0 0 1000',
    'K 36 1f 12 0 3',
    'K 37 1f 8 0 1',
    'M 38 1f 20 0 0 0 0 1000 7f0000000000 0 0 1',
  ]);
  assert.deepEqual(csv(rows), [
    'gmem_create,,,0x200000,,0,,12,,,0',
    'memslot,,0x0,0x200000,1,gmem,0x7f0000000000,12,0x1000,,0',
    'attrs,,0x0,0x200000,,0,,,,private,0',
    'gmem_punch,,,0x1000,,,,12,0x0,,0',
    'gmem_alloc,,,0x1000,,,,12,0x0,,0',
    'gmem_close,,,,,,,12,,,0',
  ]);
  assert.equal(converter.counts.otherVmRecords, 1);
  assert.match(converter.comments[0]!.text, /fallocate mode 0x0 on guest_memfd 12/);
});

test('a recorded stream replays on the model with the recorded returns', async () => {
  const { rows } = convert([
    ...VM_START,
    'M 30 1f 8 0 0 1 0 400000 7f0000000000 0 0 1',
    'U 41 22 7f0000005000 1 0',
    'D 42 1f 8 0 0 0 400 3',
    'B 5+1 8+2',
    'E',
    'X 43 22 0 0 6 fed00000 4 0',
  ]);
  const builder = new TraceBuilder();
  rows.forEach((r) => builder.push(r));
  const text = formatTraceText({ comments: ['# s2bench trace v1'], fields: {} }, builder.finish());
  const result = replayTrace(await parseTraceText(text), undefined, { check: true });
  assert.deepEqual(result.divergences, []);
  assert.equal(result.counters['exits.mmio'], 1);
});

test('malformed records name their line', () => {
  assert.throws(() => parseRecord('M 30 1f 8 0 0', 7), (e: unknown) => e instanceof RecordError && /line 7: 'M' record with 6 fields/.test(e.message));
  assert.throws(() => parseRecord('W 1', 3), /line 3: unknown record type 'W'/);
  assert.throws(() => parseRecord('Q 20 1f 8 0 a8 0', 4), /line 4: 'Q' record with 7 fields \(expected 8\)/);
  assert.throws(() => parseRecord('U 40 1f zz 1 -1', 9), /line 9: expected a hex number, found 'zz'/);
  assert.throws(() => parseRecord('B 5', 2), /line 2: dirty run '5' is not START\+LEN/);
});

test('smaps: THP-eligible anonymous memory, memfd (shared) and hugetlb VMAs become backing rows', () => {
  const smaps = [
    '7f0000000000-7f0000200000 rw-p 00000000 00:00 0',
    'KernelPageSize:        4 kB',
    'THPeligible:    1',
    'VmFlags: rd wr mr mw me ac sd hg',
    '7f0000200000-7f0000400000 rw-p 00000000 00:00 0',
    'KernelPageSize:        4 kB',
    'THPeligible:    1',
    'VmFlags: rd wr mr mw me ac sd',
    '7f0000400000-7f0000600000 rw-s 00000000 00:01 5 /memfd:pc.ram (deleted)',
    'KernelPageSize:        4 kB',
    'THPeligible:    0',
    'VmFlags: rd wr sh mr mw me ms sd',
    '7f0000600000-7f0000a00000 rw-s 00000000 00:10 7 /dev/hugepages/x',
    'KernelPageSize:     2048 kB',
    'VmFlags: rd wr sh mr mw me ms de ht sd',
  ].join('\n');
  const rows = backingRows(parseSmaps(smaps), 0x7f0000100000n, 0x700000n);
  assert.deepEqual(csv(rows), [
    'backing,,,0x300000,,anon|thp,0x7f0000100000,,,,',
    'backing,,,0x200000,,shmem,0x7f0000400000,,,,',
    'backing,,,0x200000,,hugetlb2m,0x7f0000600000,,,,',
  ]);
});
