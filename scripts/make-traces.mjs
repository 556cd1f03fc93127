// Regenerates the default suite under traces/ (run after `npm run build`):
//   node scripts/make-traces.mjs
// Every trace comes from a generator of `s2bench gen` (each modeled on a KVM selftest) or from a real
// recording through `s2bench import`, with fixed seeds, so running this again gives the same files.
// Each trace says in `# profiles:` which profiles the suite runs it under, naming kernel versions and
// knobs where the rules differ (docs/kvm-rules.md). traces/recorded/ is not
// made here: `s2bench record` wrote it on a machine with /dev/kvm.

import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { chunksOf } from '../dist/src/trace/builder.js';
import { readTrace, writeTrace } from '../dist/src/trace/io.js';
import { findGenerator } from '../dist/src/trace/generators/index.js';

const ROOT = join(import.meta.dirname, '..', 'traces');
const CLI = join(import.meta.dirname, '..', 'dist', 'src', 'cli', 'main.js');
const STRACE = join(import.meta.dirname, '..', 'test', 'fixtures', 'strace', 'qemu72-minimal-512m.strace');

const SUITE = [
  { name: 'boot/qemu-like-512m', gen: 'boot', values: { ramMiB: 512, frames: 16 }, profiles: ['x86-tdp', 'x86-tdp,nx-huge-pages=on'] },
  { name: 'demand-paging/4vcpu-1g-uffd', gen: 'demand-paging', values: { vcpus: 4, vcpuPages: 262144, chunkPages: 512, uffd: true }, profiles: ['x86-tdp', 'arm64-s2'] },
  { name: 'demand-paging/4vcpu-1g', gen: 'demand-paging', values: { vcpus: 4, vcpuPages: 262144, chunkPages: 512, uffd: false }, profiles: ['x86-tdp', 'arm64-s2'] },
  { name: 'migration/dirty-log-1g-thp', gen: 'dirty-log', values: { vcpus: 4, vcpuPages: 65536, iterations: 5, writePercent: 2, backing: 'thp' }, profiles: ['x86-tdp@6.12', 'x86-tdp@6.12,pml=off', 'x86-tdp@6.18', 'x86-tdp@6.18,pml=off', 'x86-tdp,eager-split=off'] },
  { name: 'memslots/churn-256', gen: 'memslots', values: { slots: 256, slotPages: 512, moves: 64, accesses: 16384 }, profiles: ['x86-tdp', 'x86-tdp,slot-zap-all=off'] },
  { name: 'private/conversion-storm', gen: 'conversions', values: { rounds: 256 }, profiles: ['x86-tdp,vm-type=sw-protected', 'x86-tdp,gmem-folio=2m,vm-type=sw-protected', 'x86-tdp,gmem-folio=2m,gmem-split=4k,vm-type=sw-protected'] },
  { name: 'private/conversion-storm-1g', gen: 'conversions', values: { size: 1 << 30, vcpus: 1, rounds: 256 }, profiles: ['x86-tdp,gmem-folio=1g,vm-type=sw-protected', 'x86-tdp,gmem-folio=1g,gmem-split=4k,vm-type=sw-protected'] },
  { name: 'vdpa/churn-then-kill', gen: 'vdpa', values: { kill: true }, profiles: ['x86-tdp,vdpa-release=leaky', 'x86-tdp,vdpa-release=free-first', 'x86-tdp,vdpa-release=clean'] },
  { name: 'pkvm/hypshare-churn', gen: 'hypshare', values: {}, profiles: ['arm64-s2,hypshare=v7.1', 'arm64-s2,hypshare=fixed'] },
  // Four rows of arm64 page_fault_test: dirty-logged write, uffd + dirty log, read-only MMIO, no syndrome +
  // uffd; under the default 40-bit IPA (3-level stage-2) and a 48-bit one (4-level: tables.peak differs).
  ...[29, 38, 46, 65].map((row) => ({ name: `arm64/page-fault-test-row${row}`, gen: 'page-fault-test', values: { row, backing: 'thp' }, profiles: ['arm64-s2', 'arm64-s2,ipa=48'] })),
  // arm64 dirty logging over THP blocks (docs/kvm-rules.md, arm64): by default no eager split, each
  // first write breaks a block into an empty table; with a split chunk size every block splits at once.
  { name: 'arm64/dirty-log-thp', gen: 'dirty-log', values: { vcpus: 2, vcpuPages: 2048, iterations: 3, writePercent: 2, backing: 'thp' }, profiles: ['arm64-s2', 'arm64-s2,split-chunk=2m'] },
];

async function save(name, meta, chunks, profiles) {
  const path = join(ROOT, `${name}.csv`);
  await mkdir(dirname(path), { recursive: true });
  // A trace the suite runs only under arm64 profiles says aarch64; one listed under both architectures
  // (a guest touching memory) suits both and names no arch; others keep their generator's.
  const bothArches = new Set(profiles.map((p) => p.split(/[,@]/)[0])).size > 1;
  const arch = bothArches ? undefined : profiles.every((p) => p.startsWith('arm64')) ? 'aarch64' : meta.fields.arch;
  // A generator for both architectures records x86-tdp's answers; a trace the suite runs only under
  // arm64 profiles was checked against the first of them, so that is what it records.
  const recorded = arch === 'aarch64' && meta.fields['recorded-under']?.startsWith('x86') ? profiles[0] : meta.fields['recorded-under'];
  const comments = meta.comments
    .filter((c) => !/^#\s*profiles?:/.test(c) && !(bothArches && /^#\s*arch:/.test(c)))
    .map((c) => (/^#\s*arch:/.test(c) && arch !== undefined ? `# arch: ${arch}` : c))
    .map((c) => (/^#\s*recorded-under:/.test(c) && recorded !== undefined ? `# recorded-under: ${recorded}` : c));
  comments.push(`# profiles: ${profiles.join('; ')}`);
  await writeTrace(path, { ...meta, fields: { ...meta.fields, ...(arch === undefined ? {} : { arch }), ...(recorded === undefined ? {} : { 'recorded-under': recorded }) }, comments }, chunks);
  console.log(`${path}: ${chunks.reduce((n, c) => n + c.length, 0)} rows`);
}

for (const t of SUITE) {
  const generator = findGenerator(t.gen);
  if (!generator) throw new Error(`no generator ${t.gen}`);
  const { meta, rows, chunks } = generator.generate(t.values);
  await save(t.name, meta, chunks ? [...chunks()] : [...chunksOf(rows)], t.profiles);
}

// A real recording: QEMU 7.2's memory ioctls while booting a 512 MiB guest, from strace.
const imported = join(ROOT, 'boot', 'qemu72-strace-memslots.csv');
const result = spawnSync(process.execPath, [CLI, 'import', 'strace', STRACE, '-o', imported], { stdio: 'inherit' });
if (result.status !== 0) throw new Error(`import of ${STRACE} failed`);
const trace = await readTrace(imported);
await save('boot/qemu72-strace-memslots', trace.meta, trace.chunks, ['x86-tdp']);
