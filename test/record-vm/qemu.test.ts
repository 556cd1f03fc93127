// Real VMs recorded with the recorder library: Debian's QEMU booting SeaBIOS to "No bootable device."
// and starting a Debian kernel with a busybox initramfs. Both recordings must replay with 0
// divergences from the recorded returns and exits, and the recorder must not lose an event: its
// memslot rows equal what strace saw in the same run, and every userfaultfd fault the library read is
// a row. Skipped, saying why, without /dev/kvm, a compiler, QEMU or the unpacked kernel
// (scripts/install-system-deps.sh provides them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  guestKernel,
  LINUX_DONE,
  linuxArgs,
  linuxSkipReason,
  qemuSkipReason,
  recordGuest,
  recordMigration,
  SEABIOS_DONE,
  seabiosArgs,
  writeInitramfs,
} from '../../src/record-vm/guests.js';
import { buildChunks } from '../../src/trace/import/build.js';
import { importStrace } from '../../src/trace/import/strace.js';
import { readTrace } from '../../src/trace/io.js';
import { rowAt, type TraceRow } from '../../src/trace/row.js';
import { replayTrace } from '../../src/replay/engine.js';
import type { LoadedTrace } from '../../src/trace/io.js';

const skipQemu = qemuSkipReason();
const skipLinux = skipQemu ?? linuxSkipReason();
const hasStrace = spawnSync('strace', ['-V']).status === 0;

function rowsOf(trace: LoadedTrace): TraceRow[] {
  return trace.chunks.flatMap((c) => Array.from({ length: c.length }, (_, i) => rowAt(c, i)));
}

function memslotKey(r: TraceRow): string {
  return `${r.slot} ${r.gpa} ${r.size} ${r.hva} ${r.flags} ${r.ret}`;
}

test('SeaBIOS to "No bootable device.": recorded, replayed with 0 divergences, no memslot ioctl or fault lost', { skip: skipQemu, timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 's2bench-record-vm-'));
  try {
    const serial = join(dir, 'console.txt');
    const out = join(dir, 'seabios.csv');
    const straceLog = join(dir, 'qemu.strace');
    // Under strace when there is one: the same run, seen by both, is the count check.
    const args = seabiosArgs(serial);
    const wrapper = hasStrace ? ['strace', '-f', '-qq', '-o', straceLog, '-e', 'trace=ioctl,fallocate,close'] : [];
    const r = await recordGuest(args, out, serial, SEABIOS_DONE, 180, wrapper);
    const recording = { markerS: r.markerS, counts: r.result.counts, console: r.console };
    assert.ok(recording.markerS !== undefined, `SeaBIOS did not reach '${SEABIOS_DONE}' in time; console:\n${recording.console}`);
    const trace = await readTrace(out);
    assert.match(trace.meta.fields['source'] ?? '', /^s2bench record-vm -- /);
    assert.match(trace.meta.fields['vmm'] ?? '', /QEMU emulator version/);
    const result = replayTrace(trace, undefined, { check: true });
    assert.deepEqual(result.divergences, [], 'the model disagrees with what the kernel answered');
    const rows = rowsOf(trace);
    const c = recording.counts;
    assert.ok(c.guestFaults > 0 && c.hostFaults > 0, `first touches: ${c.guestFaults} guest, ${c.hostFaults} host`);
    assert.equal(c.libraryFaults, c.guestFaults + c.hostFaults, 'every fault the library read is a row');
    assert.equal(c.libraryResolved, c.libraryFaults, 'every fault was resolved');
    assert.equal(rows.filter((r) => r.op === 'read' || r.op === 'write').length, c.guestFaults + (c.exits['mmio'] ?? 0));
    if (hasStrace) {
      const imported = importStrace(readFileSync(straceLog, 'utf8')).vms[0]!.rows.filter((r) => r.row.op === 'memslot');
      // Through the trace builder, as the recording's rows were, so that both spell flags alike.
      const seen = rowsOf({ meta: trace.meta, chunks: buildChunks(imported, straceLog).chunks }).map(memslotKey);
      const recorded = rows.filter((r) => r.op === 'memslot').map(memslotKey);
      assert.deepEqual(recorded, seen, 'memslot rows differ from the KVM_SET_USER_MEMORY_REGION calls strace saw');
      t.diagnostic(`${recorded.length} memslot ioctls, as strace saw them`);
    } else t.diagnostic('strace not installed: memslot count check skipped');
    t.diagnostic(`console marker after ${recording.markerS!.toFixed(1)} s; ${c.guestFaults} guest and ${c.hostFaults} host first touches`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SeaBIOS migrated to /dev/null: manual protect with initially-set, 0 divergences, gets and pages as QEMU counted them', { skip: skipQemu, timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 's2bench-record-vm-'));
  try {
    const out = join(dir, 'migration.csv');
    const m = await recordMigration(out, join(dir, 'console.txt'), join(dir, 'qmp.sock'), 240);
    assert.equal(m.migration.status, 'completed');
    const trace = await readTrace(out);
    const rows = rowsOf(trace);
    assert.deepEqual(
      rows.filter((r) => r.op === 'enable_cap').map((r) => [r.slot, r.flags, r.ret]),
      [[168, 3n, 0]], // KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET
      'QEMU enables KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 with INITIALLY_SET',
    );
    const result = replayTrace(trace, undefined, { check: true });
    assert.deepEqual(result.divergences, [], 'the model disagrees with what the kernel answered');
    // QEMU's own count: one bitmap sync per dirty-sync-count, each a get of every logging slot.
    const logOn = rows.filter((r) => r.op === 'memslot' && (BigInt(r.flags ?? 0) & 1n) !== 0n); // KVM_MEM_LOG_DIRTY_PAGES
    const logging = new Set(logOn.map((r) => r.slot));
    const gets = rows.filter((r) => r.op === 'dirty_get');
    assert.equal(gets.length, m.migration.ram!['dirty-sync-count']! * logging.size);
    // Initially set: the first get of each slot reports every page of it.
    const pages = new Map(logOn.map((r) => [r.slot, Number(r.size) / 4096]));
    for (const [slot, n] of pages) assert.equal(gets.find((g) => g.slot === slot)?.ret, n, `first get of slot ${slot}`);
    t.diagnostic(`${gets.length} gets over ${logging.size} logging slots, dirty-sync-count ${m.migration.ram!['dirty-sync-count']}; ${m.result.counts.dirtyPages} dirty pages`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a Debian kernel with a busybox initramfs: recorded, replayed with 0 divergences', { skip: skipLinux, timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 's2bench-record-vm-'));
  try {
    const initrd = join(dir, 'initrd.cpio');
    writeInitramfs(initrd);
    const serial = join(dir, 'console.txt');
    const out = join(dir, 'linux.s2t');
    // The decompressor alone runs for minutes under nested KVM on some hosts: 40 s of it is plenty.
    const r = await recordGuest(linuxArgs(guestKernel()!, initrd, serial), out, serial, LINUX_DONE, 40);
    const trace = await readTrace(out);
    const result = replayTrace(trace, undefined, { check: true });
    assert.deepEqual(result.divergences, []);
    const writes = rowsOf(trace).filter((row) => row.op === 'write' && row.ret === 'ok').length;
    // The kernel image is loaded by QEMU (host writes), then decompressed by the guest (vCPU writes).
    assert.ok(writes >= 1000, `only ${writes} guest first-touch writes`);
    assert.ok(r.result.counts.hostFaults >= 1000, `only ${r.result.counts.hostFaults} host first touches (the kernel and initrd loaded by QEMU)`);
    t.diagnostic(
      `${writes} guest first-touch writes (${((writes * 4096) / 2 ** 20).toFixed(1)} MiB) in ${r.result.wallS.toFixed(1)} s; ` +
        (r.markerS !== undefined ? `init ran (marker after ${r.markerS.toFixed(1)} s)` : `init not reached; console ends: ${JSON.stringify(r.console.slice(-120))}`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
