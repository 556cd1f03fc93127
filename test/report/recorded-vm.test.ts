// report.html's "Recorded VMs" section shows the numbers `s2bench vm-summary` computes: first touches
// per vCPU and by the host, leaves per profile, dirty pages per logging interval. Checked on the
// shipped recordings and on a small recording with dirty logging, from fresh results and from a run
// read back from disk.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseProfile } from '../../src/core/profile.js';
import { summarizeRecordedVm, type RecordedVmSummary } from '../../src/record-vm/summary.js';
import { SUMMARY_PROFILES } from '../../src/record-vm/summary-profiles.js';
import { touchMetrics, countTouches } from '../../src/record-vm/touches.js';
import { readRunDir } from '../../src/report/run-dir.js';
import { collectRunInfo } from '../../src/report/run-info.js';
import { renderRunReport, writeRun } from '../../src/report/write.js';
import { runSuite } from '../../src/replay/run-suite.js';
import { readTrace } from '../../src/trace/io.js';
import { repoPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';

type Rows = Map<string, number[]>;

/** Each trace's tables in the section: rows by their data-* key, cells as numbers (commas dropped). */
function sectionTables(html: string): Map<string, { touch: Rows; levels: Rows; interval: Rows }> {
  const start = html.indexOf('<section id="recorded-vms">');
  assert.ok(start > 0, 'the report has the section');
  assert.ok(html.includes('<a href="#recorded-vms">'), 'the summary links to it');
  const section = html.slice(start, html.indexOf('</section>', start));
  const out = new Map<string, { touch: Rows; levels: Rows; interval: Rows }>();
  for (const part of section.split('<h3 class="vm-trace">').slice(1)) {
    const trace = part.slice(0, part.indexOf('</h3>'));
    const rows = (kind: string): Rows => {
      const found: Rows = new Map();
      for (const m of part.matchAll(new RegExp(`<tr data-${kind}="([^"]+)">(.*?)</tr>`, 'g'))) {
        const cells = [...m[2]!.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => Number(c[1]!.replace(/<[^>]+>|,/g, '')));
        found.set(m[1]!, cells);
      }
      return found;
    };
    out.set(trace, { touch: rows('touch'), levels: rows('levels'), interval: rows('interval') });
  }
  return out;
}

async function runAndRender(inputs: string[], profiles: readonly string[]): Promise<{ fresh: string; fromDisk: string }> {
  const dir = await tempDir('vm-report');
  const suite = await runSuite({ inputs, workers: 0, repeat: 1, profiles: profiles.map(parseProfile), check: true });
  const now = new Date();
  const info = await collectRunInfo({ runId: 'vm', startedAt: now, finishedAt: now, options: {}, traces: suite.traces, results: suite.results });
  await writeRun(dir, info, suite.results);
  const fresh = await readFile(join(dir, 'report.html'), 'utf8');
  const run = await readRunDir(dir);
  await renderRunReport(run.dir, run.info, run.jobs);
  return { fresh, fromDisk: await readFile(join(dir, 'report.html'), 'utf8') };
}

function checkAgainstSummary(tables: { touch: Rows; levels: Rows; interval: Rows }, s: RecordedVmSummary, profiles: readonly string[]): void {
  for (const [v, c] of Object.entries(s.vcpus)) assert.deepEqual(tables.touch.get(`vcpu${v}`)?.slice(1), [c.read, c.write, s.mmio[v] ?? 0], `vCPU ${v}`);
  assert.deepEqual(tables.touch.get('host')?.slice(1, 3), [s.host.read, s.host.write]);
  assert.equal(tables.touch.size, new Set([...Object.keys(s.vcpus), ...Object.keys(s.mmio)]).size + 1, 'one row per vCPU and the host');
  for (const p of profiles) {
    const l = s.levels[p]!;
    assert.deepEqual(tables.levels.get(parseProfile(p).name)?.slice(1, 4), [l['4k'], l['2m'], l['1g']], `levels under ${p}`);
    assert.equal(tables.levels.get(parseProfile(p).name)?.[5], l.divergences);
  }
  const pages = s.dirtyIntervals.filter((d) => typeof d.pages === 'number').map((d) => d.pages as number);
  pages.forEach((n, k) => assert.deepEqual(tables.interval.get(String(k + 1))?.slice(2), profiles.map(() => n), `interval ${k + 1}`));
  assert.equal(tables.interval.size, pages.length === 0 ? 0 : pages.length + 1);
}

test('the shipped recordings: first touches and levels per profile are vm-summary\'s', async () => {
  const names = ['qemu-seabios', 'qemu-linux-boot'];
  const paths = names.map((n) => repoPath('traces', 'recorded', `${n}.s2t`));
  const { fresh, fromDisk } = await runAndRender(paths, SUMMARY_PROFILES);
  for (const html of [fresh, fromDisk]) {
    const tables = sectionTables(html);
    assert.deepEqual([...tables.keys()].sort(), [...names].sort(), 'only the recorded traces, each once');
    for (const [k, name] of names.entries()) {
      const s = summarizeRecordedVm(await readTrace(paths[k]!), SUMMARY_PROFILES);
      assert.ok(Object.values(s.vcpus).some((c) => c.write > 0) && s.host.write > 0, `${name} has guest and host first touches`);
      checkAgainstSummary(tables.get(name)!, s, SUMMARY_PROFILES);
    }
  }
});

const DIRTY_TRACE = `# s2bench trace v1
# arch: x86_64
# source: s2bench record-vm -- qemu-system-x86_64 -enable-kvm -m 8
op,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret
backing,,,0x800000,,anon|thp,0x7f0000000000,,,,
memslot,,0x0,0x800000,0,,0x7f0000000000,,,,0
write,0,0x0,,,,,,,,ok
write,1,0x200000,,,,,,,,ok
read,1,0x201000,,,,,,,,ok
host_write,,,0x1000,,,0x7f0000400000,,,,
read,0,0xfee00000,,,,,,,,mmio
memslot,,0x0,0x800000,0,log,0x7f0000000000,,,,0
write,,0x3000,0x2000,,,,,,,ok
dirty_get,,,,0,,,,,,2
write,,0x200000,,,,,,,,ok
write,,0x400000,,,,,,,,ok
write,,0x600000,0x3000,,,,,,,ok
dirty_get,,,,0,,,,,,5
dirty_get,,,,0,,,,,,0
`;

test('a recording with dirty logging: pages per interval under each profile are the kernel\'s, as vm-summary reads them', async () => {
  const traces = await tempDir('vm-dirty');
  await writeFile(join(traces, 'vm-dirty.csv'), DIRTY_TRACE);
  // A trace not written by record-vm gets no section, whatever its rows.
  await copyFile(repoPath('traces', 'recorded', 'dirty-logging.csv'), join(traces, 'not-record-vm.csv'));
  const profiles = ['x86-tdp', 'x86-tdp,eager-split=off', 'x86-tdp@6.12,pml=off'];
  const { fresh, fromDisk } = await runAndRender([traces], profiles);
  const s = summarizeRecordedVm(await readTrace(join(traces, 'vm-dirty.csv')), profiles);
  assert.deepEqual(s.dirtyIntervals.map((d) => d.pages), [2, 5, 0]);
  assert.deepEqual(s.mmio, { '0': 1 });
  for (const html of [fresh, fromDisk]) {
    const tables = sectionTables(html);
    assert.deepEqual([...tables.keys()], ['vm-dirty']);
    checkAgainstSummary(tables.get('vm-dirty')!, s, profiles);
    assert.deepEqual(tables.get('vm-dirty')!.interval.get('all')?.slice(2), profiles.map(() => 7));
  }
});

test('the vm.* metrics count what the summary counts, and only for record-vm traces', async () => {
  const vm = await readTrace(repoPath('traces', 'recorded', 'qemu-seabios.s2t'));
  const m = touchMetrics(await countTouches(vm.chunks));
  const s = summarizeRecordedVm(vm, []);
  assert.equal(m['vm.touch.vcpu0.write'], s.vcpus['0']!.write);
  assert.equal(m['vm.touch.host.write'], s.host.write);
  assert.equal(m['vm.dirty_gets'], 0);
  const suite = await runSuite({ inputs: [repoPath('traces', 'recorded', 'dirty-logging.csv')], workers: 0, repeat: 1, profiles: [], check: false });
  assert.ok(suite.results.every((r) => Object.keys(r.modeled).every((k) => !k.startsWith('vm.'))), 'no vm.* for a trace record-vm did not write');
});
