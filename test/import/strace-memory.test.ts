// `import strace` streams: a recording's rows go to the output chunk by chunk, so peak RSS stays flat
// whatever the recording's length. Each size runs in a fresh process (test/helpers/rss-child.ts) whose
// peak RSS is compared; holding the rows (as an ImportedRow each, then as built chunks) would add
// ~300 bytes per row, ~210 MB between the two sizes here. The streamed --faults merge is checked
// against the whole-recording one.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { mergeByTime, mergeStreamsByTime } from '../../src/trace/import/merge.js';
import type { ImportedRow } from '../../src/trace/import/result.js';
import { createStraceImporter, importStrace } from '../../src/trace/import/strace.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const CHILD = fileURLToPath(new URL('../helpers/rss-child.js', import.meta.url));
const SIZES = [100_000, 800_000];
/**
 * Allowed growth of peak RSS from the smallest size: V8 heap noise and the writer's chunk buffers
 * reaching their plateau (about 25 MiB from 100k to 400k rows, none from 400k to 1.6M), well below
 * the rows' bytes.
 */
const SLACK_MIB = 60;

/** A VMM's strace with `rows` memory ioctls of one VM: memslot changes and dirty-log reads. */
function* recording(rows: number): Generator<string> {
  yield '1 100.000000 ioctl(3, KVM_CREATE_VM, 0) = 7\n';
  for (let k = 0; k < rows; k++) {
    const t = (100 + (k + 1) * 1e-6).toFixed(6);
    const gpa = (k * 4096).toString(16);
    if (k % 4 === 3) yield `1 ${t} ioctl(7, KVM_GET_DIRTY_LOG, {slot=${k % 509}, dirty_bitmap=0x55d0c0a0b000}) = 0\n`;
    else {
      yield `1 ${t} ioctl(7, KVM_SET_USER_MEMORY_REGION, {slot=${k % 509}, flags=KVM_MEM_LOG_DIRTY_PAGES, ` +
        `guest_phys_addr=0x${gpa}, memory_size=4096, userspace_addr=0x7f00${gpa.padStart(8, '0')}}) = 0\n`;
    }
    if (k % 64 === 0) yield `1 ${t} ioctl(12, KVM_RUN, 0) = 0\n`;
  }
}

async function writeRecording(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  let text = '';
  for (const line of recording(rows)) {
    text += line;
    if (text.length > 1 << 20) {
      if (!out.write(text)) await once(out, 'drain');
      text = '';
    }
  }
  out.end(text);
  await once(out, 'finish');
}

function child(...args: string[]): { rows: number; maxRssKiB: number } {
  return JSON.parse(execFileSync(process.execPath, [CHILD, ...args], { encoding: 'utf8' })) as { rows: number; maxRssKiB: number };
}

describe('import strace streamed', () => {
  it(`peak RSS stays flat across ${SIZES.map((n) => `${n / 1000}k`).join(', ')}-row recordings`, async () => {
    const dir = await tempDir('strace-rss');
    try {
      const rss: number[] = [];
      for (const rows of SIZES) {
        const input = join(dir, `vmm-${rows}.strace`);
        await writeRecording(input, rows);
        const r = child('import-strace', input, join(dir, `vmm-${rows}.s2t`));
        assert.equal(r.rows, rows);
        rss.push(r.maxRssKiB);
        await rm(input);
      }
      const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;
      for (let k = 1; k < SIZES.length; k++) assert.ok(rss[k]! - rss[0]! < SLACK_MIB * 1024, `import strace peak RSS grew: ${rss.map(mib).join(' -> ')}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('hands each selected VM and its rows on as they are read, keeping none, the same rows as a whole import', () => {
    const lines = [
      'ioctl(3, KVM_CREATE_VM, 0) = 7',
      'ioctl(3, KVM_CREATE_VM, 0) = 9',
      'ioctl(7, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0, guest_phys_addr=0, memory_size=4096, userspace_addr=0x7f0000000000}) = 0',
      'ioctl(9, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0x2, guest_phys_addr=0, memory_size=8192, userspace_addr=0x7f0000000000}) = 0',
      'ioctl(9, KVM_GET_DIRTY_LOG, {slot=0, dirty_bitmap=0x55d0c0a0b000}) = 0',
    ];
    const seen: string[] = [];
    const streamed: ImportedRow[] = [];
    const importer = createStraceImporter({
      vmFd: 9,
      onVm: (vm) => seen.push(`vm ${vm.fd}`),
      onRow: (vm, r) => {
        seen.push(`row ${vm.fd} line ${r.line}`);
        streamed.push(r);
      },
    });
    for (const line of lines) importer.feed(line);
    const result = importer.finish();
    assert.deepEqual(seen, ['vm 9', 'row 9 line 4', 'row 9 line 5']);
    assert.deepEqual(result.vms.map((vm) => [vm.fd, vm.rows.length]), [[9, 0]]);
    assert.deepEqual(streamed, importStrace(lines.join('\n'), { vmFd: 9 }).vms[0]!.rows);
  });

  it('merges two streams as mergeByTime merges the whole recordings, and names an untimed line', async () => {
    const row = (line: number, time: number | undefined): ImportedRow => ({ row: { op: 'read', vcpu: 0, gpa: BigInt(line) << 12n, size: 4096n }, line, ...(time === undefined ? {} : { time }) });
    const a = [row(1, 1.0), row(2, 2.0), row(3, 2.5), row(4, 4.0)];
    const b = [row(10, 0.5), row(11, 1.5), row(12, 2.5), row(13, 9.0)];
    async function* stream(rows: ImportedRow[]): AsyncGenerator<ImportedRow> {
      yield* rows;
    }
    const merged: ImportedRow[] = [];
    for await (const r of mergeStreamsByTime(stream(a), stream(b), -0.5, ['a', 'b'])) merged.push(r);
    assert.deepEqual(merged, mergeByTime(a, b, -0.5, ['a', 'b']));
    assert.deepEqual(merged.map((r) => r.line), [10, 1, 11, 2, 12, 3, 4, 13]);
    const untimed = async (): Promise<void> => {
      for await (const _ of mergeStreamsByTime(stream(a), stream([row(10, 0.5), row(11, undefined)]), 0, ['a', 'b'])) {
        // drain
      }
    };
    await assert.rejects(untimed, /^InputError: b: line 11 has no timestamp/);
  });

  it('a second VM found while merging --faults stops the import, leaving no output', async () => {
    const dir = await tempDir('strace-fail');
    try {
      await writeFile(
        join(dir, 'two.strace'),
        [
          '1 100.0000 ioctl(3, KVM_CREATE_VM, 0) = 7',
          '1 100.0001 ioctl(7, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0, guest_phys_addr=0, memory_size=4096, userspace_addr=0x7f0000000000}) = 0',
          '1 100.0002 ioctl(3, KVM_CREATE_VM, 0) = 9',
        ].join('\n'),
      );
      await writeFile(join(dir, 'faults.txt'), ' qemu-system-x86-6288  [003]   100.000150: kvm_page_fault:       vcpu 0 rip 0x1000 address 0x0 error_code 0x182\n');
      const r = await runCli(['import', 'strace', join(dir, 'two.strace'), '-o', join(dir, 'out.s2t'), '--faults', join(dir, 'faults.txt'), '--quiet']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /two\.strace: several VMs; pick the one the fault recording belongs to with --vm/);
      assert.deepEqual((await readdir(dir)).sort(), ['faults.txt', 'two.strace']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
