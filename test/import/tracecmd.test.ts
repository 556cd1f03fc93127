import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { replayTrace } from '../../src/replay/engine.js';
import { readTrace } from '../../src/trace/io.js';
import { rowAt } from '../../src/trace/row.js';
import { mergeByTime } from '../../src/trace/import/merge.js';
import { importStrace } from '../../src/trace/import/strace.js';
import { createTracecmdImporter, importTracecmd, lineArch } from '../../src/trace/import/tracecmd.js';
import { runCli, runCliOk } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

// trace-cmd report lines, event texts exactly as arch/x86/kvm/trace.h, include/trace/events/kvm.h and
// arch/x86/kvm/mmu/mmutrace.h print them.
const X86_TRACECMD = [
  'cpus=4',
  ' qemu-system-x86-6288  [003]   100.000100: kvm_page_fault:       vcpu 0 rip 0xfff0 address 0x00000000fffffff0 error_code 0x194',
  ' qemu-system-x86-6288  [003]   100.000200: kvm_mmu_spte_requested: gfn fffff pfn 12345 level 1',
  ' qemu-system-x86-6288  [003]   100.000300: kvm_mmu_set_spte:     gfn fffff spte 600000012345b77 (r-x-) level 1 at 10a3ef8',
  ' qemu-system-x86-6289  [001] d..1.   100.000400: kvm_page_fault:       vcpu 1 rip 0x1000 address 0x0000000000200008 error_code 0x2000000000182',
  ' qemu-system-x86-6288  [003]   100.000500: kvm_page_fault:       vcpu 0 rip 0x1004 address 0x00000000fee00030 error_code 0x181',
  ' qemu-system-x86-6288  [003]   100.000600: kvm_mmio:             mmio read len 4 gpa 0xfee00030 val 0x50014',
  ' qemu-system-x86-6288  [003]   100.000700: kvm_page_fault:       vcpu 0 rip 0x1008 address 0x00000000fed00000 error_code 0x182',
  ' qemu-system-x86-6288  [003]   100.000800: kvm_userspace_exit:   reason KVM_EXIT_MMIO (6)',
  ' qemu-system-x86-6288  [003]   100.000900: kvm_page_fault:       vcpu 0 address garbage',
].join('\n');

// perf script lines of arm64 kvm_guest_fault (arch/arm64/kvm/trace_arm.h), and an exit.
const ARM64_PERF = [
  'qemu-system-aar  7001 [002]   200.000100: kvm:kvm_guest_fault: ipa 0x40001000, hsr 0x93c00046, hxfar 0x40001000, pc 0xffff800010001234',
  'qemu-system-aar  7001 [002]   200.000200: kvm:kvm_guest_fault: ipa 0x40002000, hsr 0x92000086, hxfar 0x40002000, pc 0xffff800010001238',
  'qemu-system-aar  7002 [003]   200.000300: kvm:kvm_guest_fault: ipa 0x40003000, hsr 0x82000006, hxfar 0x40003000, pc 0x40003000',
  'qemu-system-aar  7001 [002]   200.000400: kvm:kvm_guest_fault: ipa 0x9000000, hsr 0x92000046, hxfar 0x9000000, pc 0xffff80001000123c',
  'qemu-system-aar  7001 [002]   200.000500: kvm:kvm_userspace_exit: reason error (38)',
].join('\n');

describe('trace-cmd report of x86 KVM events', () => {
  const imported = importTracecmd(X86_TRACECMD, { expectLevels: true });

  it('turns kvm_page_fault into page accesses: fetch -> exec, write bit -> write, bit 49 -> private', () => {
    assert.equal(imported.arch, 'x86_64');
    assert.deepEqual(
      imported.rows.slice(0, 4).map((r) => [r.line, r.row]),
      [
        [2, { op: 'exec', gpa: 0xfffff000n, size: 4096n, vcpu: 0 }],
        [5, { op: 'write', gpa: 0x200000n, size: 4096n, flags: 'private', vcpu: 1 }],
        [6, { op: 'read', gpa: 0xfee00000n, size: 4096n, vcpu: 0, ret: 'mmio' }],
        [8, { op: 'write', gpa: 0xfed00000n, size: 4096n, vcpu: 0, ret: 'mmio' }],
      ],
    );
    assert.equal(imported.rows[0]!.time, 100.0001);
  });

  it('counts kvmmmu levels and, when asked, ends with expect rows from kvm_mmu_set_spte', () => {
    assert.deepEqual(imported.stats.setSpteLevels, { '1': 1 });
    assert.deepEqual(imported.stats.requestedLevels, { '1': 1 });
    assert.deepEqual(
      imported.rows.slice(4).map((r) => r.row),
      [
        { op: 'expect', flags: 'leaves.4k', ret: 1 },
        { op: 'expect', flags: 'leaves.2m', ret: 0 },
        { op: 'expect', flags: 'leaves.1g', ret: 0 },
      ],
    );
  });

  it('reports a line it cannot read with its line number', () => {
    assert.deepEqual(imported.warnings, [{ line: 10, message: "kvm_page_fault: unexpected text 'vcpu 0 address garbage'" }]);
    assert.equal(imported.stats.skipped, 3);
  });
});

describe('perf script of arm64 kvm_guest_fault', () => {
  const imported = importTracecmd(ARM64_PERF);

  it('decodes ESR: WnR -> write, S1PTW, ISV clear -> nisv, instruction abort -> exec; vCPUs by thread', () => {
    assert.equal(imported.arch, 'arm64');
    assert.deepEqual(
      imported.rows.map((r) => r.row),
      [
        // 0x93c00046: DABT_LOW, ISV set, WnR set.
        { op: 'write', gpa: 0x40001000n, size: 4096n, vcpu: 0 },
        // 0x92000086: DABT_LOW, ISV clear, S1PTW set, WnR clear.
        { op: 'read', gpa: 0x40002000n, size: 4096n, flags: 'nisv|s1ptw', vcpu: 0 },
        // 0x82000006: IABT_LOW.
        { op: 'exec', gpa: 0x40003000n, size: 4096n, vcpu: 1 },
        // 0x92000046: DABT_LOW, ISV clear, WnR set; then KVM_RUN fails with ENOSYS.
        { op: 'write', gpa: 0x9000000n, size: 4096n, flags: 'nisv', vcpu: 0, ret: 'enosys' },
      ],
    );
    assert.deepEqual(imported.warnings, []);
  });
});

describe('merging an ioctl recording with a fault recording', () => {
  it('orders rows by time, ioctls first on ties, with the offset applied to the faults', () => {
    const ioctls = importStrace(
      [
        '1 100.0000 ioctl(3, KVM_CREATE_VM, 0) = 7',
        '1 100.0001 ioctl(7, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0, guest_phys_addr=0xfffc0000, memory_size=262144, userspace_addr=0x7f0000000000}) = 0',
        '1 100.0010 ioctl(7, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0, guest_phys_addr=0xfffc0000, memory_size=0, userspace_addr=0x7f0000000000}) = 0',
      ].join('\n'),
    ).vms[0]!.rows;
    const faults = importTracecmd(X86_TRACECMD).rows;
    const merged = mergeByTime(ioctls, faults, 0.0001);
    assert.deepEqual(
      merged.map((r) => r.row.op),
      ['memslot', 'exec', 'write', 'read', 'write', 'memslot'],
    );
    assert.equal(merged[1]!.time, 100.0002);
  });
});

describe('import tracecmd / --faults on the command line', () => {
  it('writes an arm64 trace with the arm64-s2 profile, round-tripping through .s2t', async () => {
    const dir = await tempDir('tc');
    try {
      await writeFile(join(dir, 'arm.txt'), ARM64_PERF);
      await runCliOk(['import', 'tracecmd', join(dir, 'arm.txt'), '-o', join(dir, 'arm.s2t'), '--quiet']);
      await runCliOk(['import', 'tracecmd', join(dir, 'arm.txt'), '-o', join(dir, 'arm.csv'), '--quiet']);
      const bin = await readTrace(join(dir, 'arm.s2t'));
      const csv = await readTrace(join(dir, 'arm.csv'));
      assert.equal(bin.meta.fields['profile'], 'arm64-s2');
      assert.equal(bin.meta.fields['arch'], 'arm64');
      assert.deepEqual(rowAt(bin.chunks[0]!, 1), rowAt(csv.chunks[0]!, 1));
      assert.deepEqual(rowAt(bin.chunks[0]!, 3), { op: 'write', vcpu: 0, gpa: 0x9000000n, size: 4096n, flags: 2n, ret: 'enosys' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--strict fails (exit 1) on the unreadable line, naming FILE:LINE', async () => {
    const dir = await tempDir('tc');
    try {
      await writeFile(join(dir, 'x86.txt'), X86_TRACECMD);
      const strict = await runCli(['import', 'tracecmd', join(dir, 'x86.txt'), '-o', join(dir, 'x86.csv'), '--strict', '--quiet']);
      assert.equal(strict.code, 1);
      assert.match(strict.stderr, /1 line\(s\) could not be imported/);
      await assert.rejects(readFile(join(dir, 'x86.csv')));
      const warned = (await runCliOk(['import', 'tracecmd', join(dir, 'x86.txt'), '-o', join(dir, 'x86.csv'), '--quiet'])).stderr;
      assert.match(warned, /x86\.txt:10: kvm_page_fault: unexpected text/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('strace --faults merges the two recordings into one trace that replays', async () => {
    const dir = await tempDir('tc');
    try {
      await writeFile(
        join(dir, 'run.strace'),
        [
          '1 99.9990 ioctl(3, KVM_CREATE_VM, 0) = 7',
          '1 99.9991 ioctl(7, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0, guest_phys_addr=0, memory_size=4194304, userspace_addr=0x7f0000000000}) = 0',
          '1 99.9992 ioctl(7, KVM_SET_USER_MEMORY_REGION, {slot=1, flags=KVM_MEM_READONLY, guest_phys_addr=0xfffc0000, memory_size=262144, userspace_addr=0x7f1000000000}) = 0',
        ].join('\n'),
      );
      await writeFile(join(dir, 'faults.txt'), X86_TRACECMD.split('\n').slice(0, 9).join('\n'));
      await runCliOk(['import', 'strace', join(dir, 'run.strace'), '-o', join(dir, 'run.csv'), '--faults', join(dir, 'faults.txt'), '--quiet']);
      const trace = await readTrace(join(dir, 'run.csv'));
      const ops = Array.from({ length: trace.chunks[0]!.length }, (_, i) => rowAt(trace.chunks[0]!, i).op);
      assert.deepEqual(ops, ['memslot', 'memslot', 'exec', 'write', 'read', 'write']);
      assert.equal(trace.meta.fields['source'], 'strace importer, file run.strace, vm fd 7, faults faults.txt');
      assert.deepEqual(replayTrace(trace).divergences, []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('perf script with -F comm,pid,tid,cpu,time,event,trace', () => {
  it('takes the thread id as the vCPU thread', () => {
    const imported = importTracecmd(
      [
        'qemu-system-x86  6286/6288 [003]   100.000100: kvm:kvm_page_fault: address fee00030 error_code 181',
        'qemu-system-x86  6286/6289 [001]   100.000200: kvm:kvm_page_fault: address 1000 error_code 182',
        'qemu-system-x86  6286/6288 [003]   100.000300: kvm:kvm_page_fault: address 2000 error_code 10',
      ].join('\n'),
    );
    assert.deepEqual(
      imported.rows.map((r) => [r.row.op, r.row.vcpu]),
      [
        ['read', 0],
        ['write', 1],
        ['exec', 0],
      ],
    );
  });
});

describe('Intel EPT violations and MMIO without a fault', () => {
  const INTEL = [
    ' qemu-system-x86-6288  [003]   300.000100: kvm_exit:             vcpu 2 reason EPT_VIOLATION rip 0xffffffff81000000 info1 0x0000000000000184 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000',
    ' qemu-system-x86-6288  [003]   300.000110: kvm_page_fault:       vcpu 2 rip 0xffffffff81000000 address 0x0000000001000000 error_code 0x184',
    ' qemu-system-x86-6288  [003]   300.000200: kvm_page_fault:       vcpu 2 rip 0xffffffff81000004 address 0x0000000001200000 error_code 0x182',
    ' qemu-system-x86-6288  [003]   300.000300: kvm_mmio:             mmio unsatisfied-read len 4 gpa 0xfebf0000 val 0x0',
    ' qemu-system-x86-6288  [003]   300.000400: kvm_userspace_exit:   reason KVM_EXIT_MMIO (6)',
    ' qemu-system-x86-6288  [003]   300.000500: kvm_mmio:             mmio read len 4 gpa 0xfebf0000 val 0x1234',
    ' qemu-system-x86-6288  [003]   300.000600: kvm_mmio:             mmio write len 4 gpa 0xfee000b0 val 0x0',
  ].join('\n');

  it('reads error_code as the exit qualification (bit 2 = fetch) when kvm_exit says EPT_VIOLATION', () => {
    const imported = importTracecmd(INTEL);
    assert.equal(imported.stats.vendor, 'intel');
    assert.deepEqual(
      imported.rows.map((r) => [r.line, r.row]),
      [
        [2, { op: 'exec', gpa: 0x1000000n, size: 4096n, vcpu: 2 }],
        [3, { op: 'write', gpa: 0x1200000n, size: 4096n, vcpu: 2 }],
        // Cached MMIO SPTEs: the MMIO events are the accesses; a completed read is not a second one.
        [4, { op: 'read', gpa: 0xfebf0000n, size: 4096n, vcpu: 2, ret: 'mmio' }],
        [7, { op: 'write', gpa: 0xfee00000n, size: 4096n, vcpu: 2, ret: 'mmio' }],
      ],
    );
  });

  it('--vendor amd reads the same code as PFERR bits (bit 4 = fetch)', () => {
    const imported = importTracecmd(INTEL, { vendor: 'amd' });
    assert.equal(imported.rows[0]!.row.op, 'read');
  });
});

describe('import tracecmd streamed', () => {
  // A long recording: four vCPU threads faulting in turn, every 5th fault an MMIO exit.
  function* longRecording(faults: number): Generator<string> {
    yield 'cpus=4';
    for (let k = 0; k < faults; k++) {
      const pid = 6288 + (k % 4);
      const t = (100 + k * 1e-6).toFixed(6);
      yield ` qemu-system-x86-${pid}  [003]   ${t}: kvm_page_fault:       vcpu ${k % 4} rip 0x1000 address 0x${(0x100000 + k * 4096).toString(16)} error_code 0x182`;
      if (k % 5 === 0) yield ` qemu-system-x86-${pid}  [003]   ${t}: kvm_userspace_exit:   reason KVM_EXIT_MMIO (6)`;
    }
  }

  it('hands rows on in order as they become final, holding a handful, the same rows as a whole import', () => {
    const streamed: unknown[] = [];
    const importer = createTracecmdImporter({ expectLevels: true, onRow: (r) => streamed.push(structuredClone(r)) }); // as it was when handed on
    for (const line of longRecording(200_000)) importer.feed(line);
    const result = importer.finish();
    assert.equal(result.rows.length, 0);
    assert.ok(result.stats.heldMax <= 8, `held up to ${result.stats.heldMax} rows`);
    const whole = importTracecmd([...longRecording(200_000)].join('\n'), { expectLevels: true });
    assert.equal(streamed.length, 200_003);
    assert.deepEqual(streamed, whole.rows);
  });

  it('the arch comes from the first well-formed fault event, not from comments or malformed ones', () => {
    assert.equal(lineArch('# qemu-system-x86-1  [003]   1.0: kvm_page_fault: address 0x0 error_code 0x2'), undefined);
    assert.equal(lineArch(' qemu-system-x86-6288  [003]   100.000900: kvm_page_fault:       vcpu 0 address garbage'), undefined);
    assert.equal(lineArch(X86_TRACECMD.split('\n')[1]!), 'x86_64');
    assert.equal(lineArch(ARM64_PERF.split('\n')[0]!), 'arm64');
  });
});
