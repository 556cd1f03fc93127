// The recorded-VM summary: first touches per vCPU and host, levels per profile, dirty intervals.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRecordedVmSummary, summarizeRecordedVm } from '../../src/record-vm/summary.js';
import { parseTraceText } from '../../src/trace/io.js';

const TRACE = `# s2bench trace v1
op,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret
backing,,,0x400000,,anon|thp,0x7f0000000000,,,,
memslot,,0x0,0x400000,0,log,0x7f0000000000,,,,0
host_write,,,0x1000,,,0x7f0000001000,,,,
read,0,0x2000,,,,,,,,ok
write,1,0x3000,,,,,,,,ok
write,1,0x4000,,,,,,,,ok
write,0,0xfed00000,,,,,,,,mmio
write,,0x3000,0x2000,,,,,,,ok
dirty_get,,,,0,,,,,,3
dirty_get,,,,0,,,,,,0
`;

test('first touches per vCPU and by the host, MMIO exits, dirty pages per interval, levels per profile', async () => {
  const s = summarizeRecordedVm(await parseTraceText(TRACE), ['x86-tdp', 'x86-tdp,nx-huge-pages=on']);
  assert.deepEqual(s.vcpus, { '0': { read: 1, write: 0 }, '1': { read: 0, write: 2 } });
  assert.deepEqual(s.host, { read: 0, write: 1 });
  assert.deepEqual(s.mmio, { '0': 1 });
  // The host's write allocated the THP over gpa 0..2M, so the read of 0x2000 maps writable and is
  // logged too (x86.read-fault-writable in docs/kvm-rules.md): 3 pages in the first interval.
  assert.deepEqual(s.dirtyIntervals, [
    { slot: 0, pages: 3 },
    { slot: 0, pages: 0 },
  ]);
  // A logging slot maps 4K pages only: 3 distinct pages touched by the guest.
  assert.deepEqual(s.levels['x86-tdp'], { '4k': 3, '2m': 0, '1g': 0, divergences: 0 });
  assert.match(formatRecordedVmSummary('t.csv', s), /vCPU 1: 0 read, 2 written\n/);
});
