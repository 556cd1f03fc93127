// Writes the tables of docs/ that are facts of the code, so they cannot drift from it:
//   npm run docs            (builds, then rewrites docs/trace-format.md and docs/metrics.md in place)
// The tables go between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` markers; the prose
// around them is written by hand. test/docs/generated.test.ts regenerates in memory and fails when a
// committed doc differs, or when an op or a metric has no description here.
//
// Everything about an op is read from the op table (src/trace/ops.ts), the outcomes and the metric
// names and units from the built code. What each metric counts is not in the code yet: it is kept
// in METRIC_DOCS below, and every metric must have an entry.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ATTR_NAMES, OP_TABLE } from '../dist/src/trace/schema.js';
import { OUTCOME_NAMES } from '../dist/src/core/outcome.js';
import { METRIC_NAMES, metricUnit } from '../dist/src/core/metrics.js';

const ROOT = join(import.meta.dirname, '..');

/** How each `ret` style of the op table is written and what replay does with it. */
const RET_STYLES = {
  errno: '0, a count, or `-EINVAL` style; compared',
  outcome: 'an outcome name; compared',
  value: "the metric's value; a miss is a divergence",
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
  behaviour_changes: ['rows whose recorded `ret` the model answered differently under a profile other than the trace\'s `# recorded-under:` (another kernel\'s answer, not a divergence)', '-'],
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

/** The op table of docs/trace-format.md, from src/trace/ops.ts. */
export function renderOps(table_ = OP_TABLE) {
  const rows = Object.entries(table_)
    .sort(([, a], [, b]) => a.code - b.code)
    .map(([op, spec]) => {
      const flags = spec.flags?.names;
      return [
        code(op),
        String(spec.code),
        spec.fields.length > 0 ? spec.fields.join(', ') : '-',
        flags === undefined ? 'numeric' : flags.length === 0 ? 'none named' : flags.map(([name]) => code(name)).join(' '),
        `${spec.ret}: ${RET_STYLES[spec.ret]}`,
        spec.shard,
        spec.doc,
      ];
    });
  return table(['op', 'code', 'required fields', 'flag names', '`ret`', 'sharding', 'meaning'], rows);
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
