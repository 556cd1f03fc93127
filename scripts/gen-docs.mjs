// Writes the tables of docs/ that are facts of the code, so they cannot drift from it:
//   npm run docs            (builds, then rewrites docs/trace-format.md and docs/metrics.md in place)
// The tables go between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` markers; the prose
// around them is written by hand. test/docs/generated.test.ts regenerates in memory and fails when a
// committed doc differs, or when an op or a metric has no description here.
//
// The op list, the fields each op requires, the flag vocabularies, the outcomes and the metric names
// and units are read from the built code. What each op means and what each metric counts are not in
// the code yet: they are kept in OP_DOCS and METRIC_DOCS below, and every name must have an entry.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ATTR_NAMES, FIELDS, FLAG_NAMES, OPS } from '../dist/src/trace/schema.js';
import { REQUIRED_FIELDS } from '../dist/src/trace/row.js';
import { OUTCOME_NAMES } from '../dist/src/core/outcome.js';
import { METRIC_NAMES, metricUnit } from '../dist/src/core/metrics.js';

const ROOT = join(import.meta.dirname, '..');

/** What each op stands for (its kernel or VMM counterpart) and how its `ret` cell is written. */
export const OP_DOCS = {
  memslot: { meaning: 'KVM_SET_USER_MEMORY_REGION2; `slot` is as_id<<16 | id; size 0 deletes the slot', ret: 'ioctl' },
  gmem_create: { meaning: 'KVM_CREATE_GUEST_MEMFD; `fd` is the id the trace gives the new file', ret: 'ioctl' },
  gmem_punch: { meaning: 'fallocate(PUNCH_HOLE | KEEP_SIZE) on a guest_memfd: frees the pages, zaps their mappings', ret: 'ioctl' },
  gmem_alloc: { meaning: 'fallocate() allocating guest_memfd pages ahead of faults', ret: 'ioctl' },
  gmem_close: { meaning: 'close() of a guest_memfd (bindings stay until their slots go)', ret: 'ioctl' },
  attrs: { meaning: 'KVM_SET_MEMORY_ATTRIBUTES: `attrs` `private` or 0; a change is a private/shared conversion', ret: 'ioctl' },
  dirty_get: { meaning: 'KVM_GET_DIRTY_LOG of `slot` (harvests and write-protects again)', ret: 'pages reported dirty' },
  dirty_clear: { meaning: 'KVM_CLEAR_DIRTY_LOG of `slot`, `offset` and `size` in pages', ret: 'ioctl' },
  backing: { meaning: 'the host memory behind an hva range: `anon`, `thp`, `hugetlb2m`, `hugetlb1g` or `shmem`', ret: 'none' },
  unmap_hva: { meaning: 'MADV_DONTNEED / munmap / hole punch of the backing: an mmu notifier invalidation', ret: 'none' },
  uffd: { meaning: 'register an hva range for userfaultfd missing faults; the handler fills the whole range on its first fault, or one page per fault with `page`', ret: 'none' },
  host_read: { meaning: 'the VMM reading guest memory through its own mapping (may take a userfaultfd fault; not dirty-logged)', ret: 'none' },
  host_write: { meaning: 'the VMM writing guest memory through its own mapping (may take a userfaultfd fault; not dirty-logged)', ret: 'none' },
  read: { meaning: 'guest load from every 4K page of [gpa, gpa + size)', ret: 'outcome' },
  write: { meaning: 'guest store to every 4K page of [gpa, gpa + size)', ret: 'outcome' },
  exec: { meaning: 'guest instruction fetch from every 4K page of [gpa, gpa + size)', ret: 'outcome' },
  iotlb_update: { meaning: 'vhost-vdpa VHOST_IOTLB_UPDATE: `slot` is the asid, `gpa` the iova, `flags` the perm', ret: 'ioctl' },
  iotlb_invalidate: { meaning: 'vhost-vdpa VHOST_IOTLB_INVALIDATE of [iova, iova + size) in asid `slot`', ret: 'ioctl' },
  iotlb_batch_begin: { meaning: 'vhost-vdpa VHOST_IOTLB_BATCH_BEGIN (asid `slot`, 0 when empty)', ret: 'ioctl' },
  iotlb_batch_end: { meaning: 'vhost-vdpa VHOST_IOTLB_BATCH_END (asid `slot`): one device update for the whole batch', ret: 'ioctl' },
  vdpa_close: { meaning: 'the VMM closes the vhost-vdpa device (vhost_vdpa_release(); policy `vdpa-release`)', ret: 'ioctl' },
  hyp_share: { meaning: 'pKVM kvm_share_hyp() of one page, `gpa` = pfn << 12', ret: 'injected' },
  hyp_unshare: { meaning: 'pKVM kvm_unshare_hyp() of one page, `gpa` = pfn << 12', ret: 'injected' },
  expect: { meaning: 'an assertion: metric `flags` has value `ret` at this point of the replay', ret: 'expected value' },
};

/** How a `ret` kind is written and what replay does with it. */
const RET_KINDS = {
  ioctl: '0, a count, or `-EINVAL` style; compared',
  'pages reported dirty': 'a count; compared',
  outcome: 'an outcome name; compared',
  injected: '0 or `-EPERM` style; a recorded failure is injected as the hypercall\'s answer, then compared',
  'expected value': 'the metric\'s value; a miss is a divergence',
  none: 'always 0; compared when given',
};

/** What each metric counts and its kernel counterpart. Every metric of METRIC_NAMES needs one. */
export const METRIC_DOCS = {
  events: ['every trace row replayed, `expect` rows included', '-'],
  accesses: ['every 4K page a `read`/`write`/`exec` row touches (a row with a size counts each page)', 'a guest load, store or fetch'],
  faults: ['accesses that found no stage-2 mapping with the permission they need, including those that end in an exit', '`kvm_tdp_page_fault()` (x86), `kvm_handle_guest_abort()` (arm64)'],
  'faults.fixed': ['faults that installed or changed a mapping', '`kvm_tdp_mmu_map()` (x86), `user_mem_abort()` -> `kvm_pgtable_stage2_map()` (arm64)'],
  'faults.spurious': ['faults that found the mapping already as wanted (another vCPU installed it)', '`RET_PF_SPURIOUS` in `tdp_mmu_map_handle_target_level()`; `-EAGAIN` from `stage2_map_walker_try_leaf()`'],
  'faults.wp': ['write faults on a write-protected 4K leaf of a dirty-logged slot', 'dirty-log write protection: `fast_page_fault()` (x86), `user_mem_abort()` with logging active (arm64)'],
  'exits.mmio': ['accesses that exit to the VMM as MMIO: no memslot, or a write with a valid syndrome to a read-only slot', '`KVM_EXIT_MMIO`; `io_mem_abort()` (arm64)'],
  'exits.memfault': ['accesses whose private bit disagrees with the memory attributes, or private accesses with no guest_memfd page', '`KVM_EXIT_MEMORY_FAULT` from `kvm_mmu_prepare_memory_fault_exit()`'],
  'runs.enosys': ['arm64 KVM_RUN failures: an abort without a valid syndrome outside memory (ENOSYS), an instruction fetch outside memory', '`io_mem_abort()` -ENOSYS, `kvm_handle_guest_abort()`'],
  'uffd.faults': ['first touches of a missing page of a userfaultfd-registered range, by a guest fault or a `host_read`/`host_write`', '`handle_userfault()` on the fault\'s `hva_to_pfn()`'],
  'leaves.4k': ['4K leaves installed by faults (cumulative; split children not counted)', 'x86 `pages_4k` stat increments (`kvm_update_page_stats()`)'],
  'leaves.2m': ['2M leaves installed by faults (cumulative)', 'x86 `pages_2m` stat increments'],
  'leaves.1g': ['1G leaves installed by faults (cumulative)', 'x86 `pages_1g` stat increments'],
  'mapped.4k': ['bytes mapped by 4K leaves now (end of run; at the row, for `expect`)', 'x86 `pages_4k` stat x 4 KiB'],
  'mapped.2m': ['bytes mapped by 2M leaves now', 'x86 `pages_2m` stat x 2 MiB'],
  'mapped.1g': ['bytes mapped by 1G leaves now', 'x86 `pages_1g` stat x 1 GiB'],
  splits: ['huge leaves replaced by a table of 512 smaller ones (eager split, dirty logging, conversions)', '`tdp_mmu_split_huge_page()` (x86), `kvm_pgtable_stage2_split()` (arm64)'],
  zaps: ['leaves removed by any invalidation (memslot delete or move, mmu notifier, punch hole, conversion)', '`tdp_mmu_zap_leafs()` (x86), `kvm_pgtable_stage2_unmap()` (arm64)'],
  'tlb.flushes': ['TLB flushes: one per operation that changed a live entry', '`kvm_flush_remote_tlbs()` / `kvm_flush_remote_tlbs_range()`'],
  'tables.peak': ['the most 512-entry page-table pages live at once', 'SecPageTables (`kvm_account_pgtable_pages()`)'],
  conversions: ['KVM_SET_MEMORY_ATTRIBUTES calls that changed the private/shared state of some page', '`kvm_vm_set_mem_attributes()`'],
  'dirty.pages': ['pages newly marked in a slot\'s dirty bitmap (once until harvested)', '`mark_page_dirty_in_slot()`'],
  'iotlb.pinned': ['pages pinned by vhost-vdpa IOTLB entries now (a leaky release keeps them)', '`pin_user_pages()` in `vhost_vdpa_pa_map()`, unpinned by `vhost_vdpa_pa_unmap()`'],
  'iotlb.leaked': ['pages left pinned when the device was released (`vdpa-release=leaky`)', '`vhost_vdpa_release()` -> `vhost_vdpa_cleanup()`'],
  'iotlb.freed_domain_uses': ['unmaps done after the IOMMU domain was freed (`vdpa-release=free-first`)', '`vhost_vdpa_cleanup()` ordering against `vhost_vdpa_free_domain()`'],
  'hypshare.phantom': ['pfns that became phantom shares: a host tree node, EL2 not sharing the page', '`kvm_share_hyp()` / `__pkvm_host_share_hyp`'],
  'hypshare.lost': ['pfns that became lost shares: EL2 sharing the page, no host tree node', '`kvm_unshare_hyp()` / `__pkvm_host_unshare_hyp`'],
  divergences: ['rows whose recorded `ret` the model answered differently, and `expect` rows that failed', '-'],
  'iotlb.maps': ['vhost-vdpa IOTLB entries live now', '`vhost_iotlb_add_range()` / `vhost_iotlb_del_range()`'],
  'iotlb.leaked_maps': ['IOTLB entries abandoned by a leaky release', '`vhost_vdpa_cleanup()`'],
  'iotlb.device_commits': ['IOTLB changes that reached the device: one per message outside a batch, one per batch end', '`set_map()` / `dma_map()` from `vhost_vdpa_process_iotlb_msg()`'],
  'iotlb.perm_warns': ['updates whose perm is not RO, WO or RW (mapped anyway, with no access bits)', 'the WARN in `perm_to_iommu_flags()`'],
  'hypshare.shared': ['pages EL2 shares with the host now', 'the page state kept by `__pkvm_host_share_hyp` / `__pkvm_host_unshare_hyp`'],
  'hypshare.hypercalls': ['share and unshare hypercalls made to EL2', '`kvm_call_hyp_nvhe(__pkvm_host_share_hyp / __pkvm_host_unshare_hyp)`'],
  'hypshare.desynced': ['pfns whose host and EL2 views disagree now', '-'],
  'hypshare.desync_ops': ['share or unshare calls on a pfn already desynced', '-'],
  'gmem.splits': ['guest_memfd huge folios split by conversions (`gmem-folio`, `gmem-split`)', 'guest_memfd huge-folio designs (not upstream)'],
  'gmem.merges': ['guest_memfd folios merged back once their range is uniform again', 'guest_memfd huge-folio designs (not upstream)'],
  'exits.internal': ['x86 instruction fetches from a gpa with no memslot', '`KVM_EXIT_INTERNAL_ERROR` from `handle_emulation_failure()`'],
};

/** Throws unless `docs` describes exactly `names`: a new name must be described, a removed one dropped. */
function checkDescribed(kind, names, docs) {
  const missing = names.filter((name) => !(name in docs));
  if (missing.length > 0) throw new Error(`${kind} without a description in scripts/gen-docs.mjs: ${missing.join(', ')}`);
  const stale = Object.keys(docs).filter((name) => !names.includes(name));
  if (stale.length > 0) throw new Error(`scripts/gen-docs.mjs describes ${kind} the code no longer has: ${stale.join(', ')}`);
}

function table(header, rows) {
  // A `|` inside a cell would end it (GitHub's tables honour `\|` even inside code spans).
  const line = (cells) => `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const code = (text) => `\`${text}\``;

/** The op table of docs/trace-format.md. */
export function renderOps(ops = OPS) {
  checkDescribed('ops', ops, OP_DOCS);
  const rows = ops.map((op, i) => {
    const required = (REQUIRED_FIELDS[op] ?? []).map((f) => FIELDS[f]);
    const flags = FLAG_NAMES[op];
    return [
      code(op),
      String(i),
      required.length > 0 ? required.join(', ') : '-',
      flags === undefined ? 'numeric' : flags.length === 0 ? 'none named' : flags.map(([name]) => code(name)).join(' '),
      `${OP_DOCS[op].ret}: ${RET_KINDS[OP_DOCS[op].ret]}`,
      OP_DOCS[op].meaning,
    ];
  });
  return table(['op', 'code', 'required fields', 'flag names', '`ret`', 'meaning'], rows);
}

/** The outcome names an access row's `ret` takes, and the `attrs` names. */
export function renderVocabulary() {
  return [
    `Access outcomes (\`ret\` of \`read\`/\`write\`/\`exec\`), by code: ${OUTCOME_NAMES.map((name, i) => `${i} ${code(name)}`).join(', ')}.`,
    `\`attrs\` names: ${ATTR_NAMES.map(([name, bit]) => `${code(name)} (0x${bit.toString(16)})`).join(', ')}.`,
  ].join('\n');
}

/** The metric table of docs/metrics.md. */
export function renderMetrics(names = METRIC_NAMES) {
  checkDescribed('metrics', names, METRIC_DOCS);
  const rows = names.map((name) => [code(name), metricUnit(name), METRIC_DOCS[name][0], METRIC_DOCS[name][1]]);
  return table(['metric', 'unit', 'what increments it', 'kernel counterpart'], rows);
}

/** Every generated block: the file it lives in, its marker name and its content. */
export function generatedBlocks() {
  return [
    { file: 'docs/trace-format.md', name: 'ops', text: renderOps() },
    { file: 'docs/trace-format.md', name: 'vocabulary', text: renderVocabulary() },
    { file: 'docs/metrics.md', name: 'metrics', text: renderMetrics() },
  ];
}

/** `text` with the block between the markers of `name` replaced by `content`. */
export function replaceBlock(text, name, content, file) {
  const open = `<!-- generated:${name} -->`;
  const close = `<!-- /generated:${name} -->`;
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start < 0 || end < start) throw new Error(`${file}: no ${open} ... ${close} markers`);
  const note = '<!-- written by `npm run docs` from the code; do not edit by hand -->';
  return `${text.slice(0, start + open.length)}\n${note}\n${content}\n${text.slice(end)}`;
}

/** Each doc file as committed and as the code says it should be. */
export async function renderDocs(root = ROOT) {
  const files = new Map();
  for (const block of generatedBlocks()) {
    if (!files.has(block.file)) {
      const current = await readFile(join(root, block.file), 'utf8');
      files.set(block.file, { file: block.file, current, generated: current });
    }
    const entry = files.get(block.file);
    entry.generated = replaceBlock(entry.generated, block.name, block.text, block.file);
  }
  return [...files.values()];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const { file, current, generated } of await renderDocs()) {
    if (generated === current) {
      console.log(`${file}: up to date`);
    } else {
      await writeFile(join(ROOT, file), generated);
      console.log(`${file}: written`);
    }
  }
}
