import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { replayTrace } from '../../src/replay/engine.js';
import { buildChunks } from '../../src/trace/import/build.js';
import { ioctlRequest } from '../../src/trace/import/kvm-ioctls.js';
import { importMeta } from '../../src/trace/import/result.js';
import { importStrace } from '../../src/trace/import/strace.js';
import { parseStraceLine } from '../../src/trace/import/strace-line.js';
import { readTrace } from '../../src/trace/io.js';
import { rowAt } from '../../src/trace/row.js';
import { FIXTURES_DIR } from '../helpers/paths.js';
import { runCli, runCliOk } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const FIXTURE = join(FIXTURES_DIR, 'strace', 'qemu72-minimal-512m.strace');

describe('strace importer on the recorded QEMU 7.2 boot', () => {
  const imported = importStrace(readFileSync(FIXTURE, 'utf8'));

  it('finds one VM (fd 8) with its 30 KVM_SET_USER_MEMORY_REGION calls and nothing unparseable', () => {
    assert.equal(imported.vms.length, 1);
    assert.equal(imported.vms[0]!.fd, 8);
    assert.equal(imported.vms[0]!.line, 5);
    assert.equal(imported.vms[0]!.rows.length, 30);
    assert.deepEqual(imported.warnings, []);
  });

  it('counts every other line: 1862 other KVM ioctls, 11 signals, 3 exits', () => {
    const s = imported.stats;
    assert.equal(s.lines, 1908);
    assert.equal(s.otherIoctls, 1862);
    assert.equal(s.signals, 11);
    assert.equal(s.exits, 3);
    assert.equal(s.skipped, 1862 + 11 + 3);
    assert.deepEqual(s.unknownIoctls, {});
    assert.deepEqual(s.otherSyscalls, {});
  });

  it('decodes the first memslots field for field, with symbolic flags', () => {
    const [a, b, c] = imported.vms[0]!.rows;
    assert.deepEqual(a, { line: 109, row: { op: 'memslot', slot: 0, flags: '0', gpa: 0n, size: 536870912n, hva: 0x7f784be00000n, ret: 0 } });
    assert.deepEqual(b, { line: 113, row: { op: 'memslot', slot: 1, flags: 'ro', gpa: 0xfffc0000n, size: 262144n, hva: 0x7f7872200000n, ret: 0 } });
    assert.deepEqual(c, { line: 114, row: { op: 'memslot', slot: 0, flags: '0', gpa: 0n, size: 0n, hva: 0x7f784be00000n, ret: 0 } });
  });

  it('replays with 0 divergences', () => {
    const { chunks, warnings } = buildChunks(imported.vms[0]!.rows, FIXTURE);
    assert.deepEqual(warnings, []);
    const result = replayTrace({ meta: importMeta([['arch', 'x86_64']]), chunks });
    assert.deepEqual(result.divergences, []);
    assert.equal(result.counters['events'], 30);
  });

  it('round-trips through the CLI to .s2t and back with the same rows and metadata', async () => {
    const dir = await tempDir('import');
    try {
      await runCliOk(['import', 'strace', FIXTURE, '-o', join(dir, 'boot.s2t'), '--quiet']);
      await runCliOk(['import', 'strace', FIXTURE, '-o', join(dir, 'boot.csv'), '--quiet']);
      const bin = await readTrace(join(dir, 'boot.s2t'));
      const csv = await readTrace(join(dir, 'boot.csv'));
      assert.equal(bin.meta.fields['arch'], 'x86_64');
      assert.equal(bin.meta.fields['source'], 'strace importer, file qemu72-minimal-512m.strace, vm fd 8');
      const rows = (t: typeof bin): unknown[] => t.chunks.flatMap((c) => Array.from({ length: c.length }, (_, i) => rowAt(c, i)));
      assert.equal(rows(bin).length, 30);
      assert.deepEqual(rows(bin), rows(csv));
      assert.match(await readFile(join(dir, 'boot.csv'), 'utf8'), /\nmemslot,,0xfffc0000,0x40000,1,ro,0x7f7872200000,,,,0\n/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('strace line forms', () => {
  it('reads [pid N] prefixes and -t, -tt, -ttt timestamps', () => {
    assert.deepEqual(parseStraceLine('[pid  6288] ioctl(9, KVM_RUN, 0) = 0'), { kind: 'call', pid: 6288, name: 'ioctl', args: '9, KVM_RUN, 0', ret: { value: 0n } });
    const tt = parseStraceLine('6288  19:16:07.250000 close(12) = 0');
    assert.equal(tt.kind === 'call' && tt.time, 19 * 3600 + 16 * 60 + 7.25);
    const t = parseStraceLine('19:16:07 close(12) = 0');
    assert.equal(t.kind === 'call' && t.time, 19 * 3600 + 16 * 60 + 7);
    const ttt = parseStraceLine('1700000000.125000 ioctl(8, KVM_CREATE_VM, 0) = -1 EINVAL (Invalid argument) <0.000010>');
    assert.deepEqual(ttt, { kind: 'call', pid: 0, time: 1700000000.125, name: 'ioctl', args: '8, KVM_CREATE_VM, 0', ret: { value: -1n, errno: 'EINVAL' } });
  });

  it('names requests printed as _IOC(...) and as raw numbers; other KVM numbers are unknown', () => {
    assert.equal(ioctlRequest('_IOC(_IOC_WRITE, 0xae, 0x49, 0xa0)').name, 'KVM_SET_USER_MEMORY_REGION2');
    assert.equal(ioctlRequest('0x4020ae46').name, 'KVM_SET_USER_MEMORY_REGION');
    assert.equal(ioctlRequest('_IOC(_IOC_READ|_IOC_WRITE, 0xae, 0xd4, 0x40)').name, 'KVM_CREATE_GUEST_MEMFD');
    assert.deepEqual(ioctlRequest('0xc008aeff'), { name: '0xc008aeff', unknownKvm: true, foreign: false });
    assert.deepEqual(ioctlRequest('TCGETS'), { name: 'TCGETS', unknownKvm: false, foreign: true });
  });
});

const SAMPLE = [
  '100   1700000000.000001 ioctl(3, KVM_CREATE_VM, 0) = 7',
  '100   1700000000.000002 ioctl(7, KVM_CREATE_GUEST_MEMFD, {size=2097152, flags=0}) = 12',
  '100   1700000000.000003 ioctl(7, KVM_SET_USER_MEMORY_REGION2, {slot=1, flags=KVM_MEM_GUEST_MEMFD|KVM_MEM_LOG_DIRTY_PAGES, guest_phys_addr=0x100000000, memory_size=2097152, userspace_addr=0x7f0000000000, guest_memfd_offset=0, guest_memfd=12}) = 0',
  '101   1700000000.000004 ioctl(7, KVM_SET_MEMORY_ATTRIBUTES <unfinished ...>',
  '100   1700000000.000005 openat(AT_FDCWD, "/dev/null", O_RDONLY) = 13',
  '101   1700000000.000006 <... ioctl resumed>, {address=0x100000000, size=4096, attributes=KVM_MEMORY_ATTRIBUTE_PRIVATE, flags=0}) = 0',
  '100   1700000000.000007 fallocate(12, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, 0, 4096) = 0',
  '100   1700000000.000008 ioctl(7, KVM_GET_DIRTY_LOG, {slot=1, dirty_bitmap=0x5555}) = 0',
  '100   1700000000.000009 ioctl(7, KVM_CLEAR_DIRTY_LOG, {slot=1, num_pages=512, first_page=0, dirty_bitmap=0x5555}) = -1 EINVAL (Invalid argument)',
  '100   1700000000.000010 ioctl(7, KVM_SET_USER_MEMORY_REGION, 0x7ffd0000) = 0',
  'this is not strace output',
  '100   1700000000.000011 ioctl(7, _IOC(_IOC_WRITE, 0xae, 0xfe, 0x8), 0x1) = -1 ENOTTY (Inappropriate ioctl for device)',
  '100   1700000000.000012 close(12) = 0',
  '100   1700000000.000013 +++ exited with 0 +++',
].join('\n');

describe('strace importer on the memory ioctls', () => {
  const imported = importStrace(SAMPLE);

  it('turns each memory ioctl, fallocate and close of a guest_memfd into its row, errors as -ERRNO', () => {
    assert.deepEqual(
      imported.vms[0]!.rows.map((r) => [r.line, r.row]),
      [
        [2, { op: 'gmem_create', size: 2097152n, flags: '0', fd: 12, ret: 0 }],
        [3, { op: 'memslot', slot: 1, flags: 'log|gmem', gpa: 0x100000000n, size: 2097152n, hva: 0x7f0000000000n, fd: 12, offset: 0n, ret: 0 }],
        [4, { op: 'attrs', gpa: 0x100000000n, size: 4096n, attrs: 'private', flags: 0n, ret: 0 }],
        [7, { op: 'gmem_punch', fd: 12, offset: 0n, size: 4096n, ret: 0 }],
        [8, { op: 'dirty_get', slot: 1 }],
        [9, { op: 'dirty_clear', slot: 1, offset: 0n, size: 512n, ret: '-EINVAL' }],
        [13, { op: 'gmem_close', fd: 12, ret: 0 }],
      ],
    );
  });

  it('reports undecoded and unparseable lines by number, and lists unknown KVM ioctls', () => {
    assert.deepEqual(
      imported.warnings.map((w) => w.line),
      [10, 11],
    );
    assert.match(imported.warnings[0]!.message, /KVM_SET_USER_MEMORY_REGION: argument not decoded by strace/);
    assert.deepEqual(imported.stats.unknownIoctls, { '_IOC(_IOC_WRITE, 0xae, 0xfe, 0x8)': 1 });
    assert.deepEqual(imported.stats.otherSyscalls, { openat: 1 });
    assert.equal(imported.stats.bad, 2);
  });

  it('keeps timestamps, taking an unfinished call\'s start time', () => {
    assert.equal(imported.vms[0]!.rows[2]!.time, 1700000000.000004);
  });

  it('--strict turns the warnings into exit 1 and writes nothing', async () => {
    const dir = await tempDir('strict');
    try {
      const input = join(dir, 'run.strace');
      await import('node:fs/promises').then((fs) => fs.writeFile(input, SAMPLE));
      const strict = await runCli(['import', 'strace', input, '-o', join(dir, 'out.csv'), '--strict', '--quiet']);
      assert.equal(strict.code, 1);
      const printed = strict.stderr;
      assert.match(printed, /run\.strace:10: KVM_SET_USER_MEMORY_REGION: argument not decoded/);
      assert.match(printed, /run\.strace:11: not a strace line/);
      await assert.rejects(readFile(join(dir, 'out.csv')));
      await runCliOk(['import', 'strace', input, '-o', join(dir, 'out.csv'), '--quiet']);
      const trace = await readTrace(join(dir, 'out.csv'));
      assert.equal(trace.chunks[0]!.length, 7);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes one trace per VM beside OUT when the recording has several', async () => {
    const dir = await tempDir('vms');
    try {
      const input = join(dir, 'two.strace');
      const two = [
        'ioctl(3, KVM_CREATE_VM, 0) = 7',
        'ioctl(3, KVM_CREATE_VM, 0) = 9',
        'ioctl(7, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0, guest_phys_addr=0, memory_size=4096, userspace_addr=0x7f0000000000}) = 0',
        'ioctl(9, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0x2, guest_phys_addr=0, memory_size=8192, userspace_addr=0x7f0000000000}) = 0',
      ].join('\n');
      await import('node:fs/promises').then((fs) => fs.writeFile(input, two));
      await runCliOk(['import', 'strace', input, '-o', join(dir, 'out.csv'), '--quiet']);
      const a = await readTrace(join(dir, 'out.vm7.csv'));
      const b = await readTrace(join(dir, 'out.vm9.csv'));
      assert.deepEqual(rowAt(a.chunks[0]!, 0).size, 4096n);
      assert.deepEqual(rowAt(b.chunks[0]!, 0).flags, 2n);
      await runCliOk(['import', 'strace', input, '-o', join(dir, 'only.csv'), '--vm', '9', '--quiet']);
      assert.equal(rowAt((await readTrace(join(dir, 'only.csv'))).chunks[0]!, 0).size, 8192n);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('strace output options', () => {
  it('-y fd paths, -X raw numbers and -X verbose comments decode to the same row', () => {
    const imported = importStrace(
      [
        'ioctl(3</dev/kvm>, KVM_CREATE_VM, 0) = 8<anon_inode:kvm-vm>',
        'ioctl(8<anon_inode:kvm-vm>, KVM_SET_USER_MEMORY_REGION, {slot=1, flags=KVM_MEM_READONLY, guest_phys_addr=0xfffc0000, memory_size=262144, userspace_addr=0x7f7872200000}) = 0',
        'ioctl(8, 0x4020ae46, {slot=1, flags=0x2, guest_phys_addr=0xfffc0000, memory_size=262144, userspace_addr=0x7f7872200000}) = 0',
        'ioctl(8, KVM_SET_USER_MEMORY_REGION, {slot=1, flags=0x2 /* KVM_MEM_READONLY */, guest_phys_addr=0xfffc0000, memory_size=262144, userspace_addr=0x7f7872200000}) = 0',
      ].join('\n'),
    );
    const rows = imported.vms[0]!.rows.map((r) => r.row);
    assert.equal(rows.length, 3);
    for (const row of rows) {
      assert.deepEqual(row, { op: 'memslot', slot: 1, flags: 'ro', gpa: 0xfffc0000n, size: 262144n, hva: 0x7f7872200000n, ret: 0 });
    }
  });

  it('an abbreviated struct is reported, not guessed', () => {
    const imported = importStrace(
      ['ioctl(3, KVM_CREATE_VM, 0) = 8', 'ioctl(8, KVM_SET_USER_MEMORY_REGION, {slot=1, flags=0, ...}) = 0'].join('\n'),
    );
    assert.deepEqual(imported.warnings, [{ line: 2, message: 'field guest_phys_addr not shown (abbreviated struct; rerun strace with -v)' }]);
  });

  it('a VM fd reused after close is a second VM; --vm adopts a VM created before strace attached', () => {
    const reused = importStrace(
      [
        'ioctl(3, KVM_CREATE_VM, 0) = 8',
        'close(8) = 0',
        'ioctl(3, KVM_CREATE_VM, 0) = 8',
        'ioctl(8, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0, guest_phys_addr=0, memory_size=4096, userspace_addr=0x7f0000000000}) = 0',
      ].join('\n'),
    );
    assert.deepEqual(
      reused.vms.map((vm) => [vm.fd, vm.generation, vm.rows.length]),
      [
        [8, 1, 0],
        [8, 2, 1],
      ],
    );
    const attached = importStrace(
      'ioctl(11, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=KVM_MEM_LOG_DIRTY_PAGES, guest_phys_addr=0, memory_size=4096, userspace_addr=0x7f0000000000}) = -1 EEXIST (File exists)',
      { vmFd: 11 },
    );
    assert.deepEqual(attached.vms[0]!.rows[0]!.row, { op: 'memslot', slot: 0, flags: 'log', gpa: 0n, size: 4096n, hva: 0x7f0000000000n, ret: '-EEXIST' });
  });

  it('a guest_memfd created with an undecoded argument makes its fallocate/close lines warnings too', () => {
    const imported = importStrace(
      [
        'ioctl(3, KVM_CREATE_VM, 0) = 8',
        'ioctl(8, KVM_CREATE_GUEST_MEMFD, 0x7ffd12340000) = 12',
        'fallocate(12, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, 0, 4096) = 0',
        'close(12) = 0',
        'close(12) = -1 EBADF (Bad file descriptor)',
      ].join('\n'),
    );
    assert.deepEqual(
      imported.warnings.map((w) => w.line),
      [2, 3, 4],
    );
    assert.deepEqual(imported.stats.otherSyscalls, { close: 1 });
  });
});
