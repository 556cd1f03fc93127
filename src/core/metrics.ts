// The metric table: every modeled counter with its unit, how shards merge it and what it means
// (docs/metrics.md is generated from it). Users' scripts and `expect` rows depend on the names: add
// new ones at the end, rename none. The core keeps the values in one Float64Array indexed by id, so
// counting on the hot path is a typed-array increment. Adding a metric is one entry here.

export type MetricUnit = 'count' | 'bytes';

/**
 * How sharded replay (src/replay/shard.ts) merges the shards' values into the single run's:
 * - `sum`: each shard counts its own granules' work;
 * - `rows`: every trace row once (the shards replay barrier rows each);
 * - `once`: counts of barrier ioctls, which every shard performs: shard 0's value is the trace's;
 * - `flush-union`: one kernel flush per (row, n-th flush decision), whichever shards needed it;
 * - `tables-peak`: the peak over rows of live tables, shared upper tables counted once;
 * - `divergences`: the merged divergence list's length.
 */
export type ShardMerge = 'sum' | 'rows' | 'once' | 'flush-union' | 'tables-peak' | 'divergences';

export interface MetricSpec {
  readonly unit: MetricUnit;
  readonly merge: ShardMerge;
  /** What increments it (docs/metrics.md). */
  readonly doc: string;
  /** The kernel function or counter it stands for ('-' for the model's own bookkeeping). */
  readonly kernel: string;
}

/** Every modeled metric, in id order: append new ones at the end, rename none. */
export const METRICS = {
  events: {
    unit: 'count',
    merge: 'rows',
    doc: 'every trace row replayed, `expect` rows included',
    kernel: '-',
  },
  accesses: {
    unit: 'count',
    merge: 'sum',
    doc: 'every 4K page a `read`/`write`/`exec` row touches (a row with a size counts each page)',
    kernel: 'a guest load, store or fetch',
  },
  faults: {
    unit: 'count',
    merge: 'sum',
    doc: 'accesses that found no stage-2 mapping with the permission they need, including those that end in an exit',
    kernel: '`kvm_tdp_page_fault()` (x86), `kvm_handle_guest_abort()` (arm64)',
  },
  'faults.fixed': {
    unit: 'count',
    merge: 'sum',
    doc: 'faults that installed or changed a mapping',
    kernel: '`kvm_tdp_mmu_map()` (x86), `user_mem_abort()` -> `kvm_pgtable_stage2_map()` (arm64)',
  },
  'faults.spurious': {
    unit: 'count',
    merge: 'sum',
    doc: 'faults that found the mapping already as wanted (another vCPU installed it)',
    kernel: '`RET_PF_SPURIOUS` in `tdp_mmu_map_handle_target_level()`; `-EAGAIN` from `stage2_map_walker_try_leaf()`',
  },
  'faults.wp': {
    unit: 'count',
    merge: 'sum',
    doc: 'write faults on a write-protected 4K leaf of a dirty-logged slot',
    kernel: 'dirty-log write protection: `fast_page_fault()` (x86), `user_mem_abort()` with logging active (arm64)',
  },
  'exits.mmio': {
    unit: 'count',
    merge: 'sum',
    doc: 'accesses that exit to the VMM as MMIO: no memslot, or a write with a valid syndrome to a read-only slot',
    kernel: '`KVM_EXIT_MMIO`; `io_mem_abort()` (arm64)',
  },
  'exits.memfault': {
    unit: 'count',
    merge: 'sum',
    doc: 'accesses whose private bit disagrees with the memory attributes, or private accesses with no guest_memfd page',
    kernel: '`KVM_EXIT_MEMORY_FAULT` from `kvm_mmu_prepare_memory_fault_exit()`',
  },
  'runs.enosys': {
    unit: 'count',
    merge: 'sum',
    doc: 'arm64 KVM_RUN failures: an abort without a valid syndrome outside memory (ENOSYS)',
    kernel: '`io_mem_abort()` -ENOSYS, `kvm_handle_guest_abort()`',
  },
  'uffd.faults': {
    unit: 'count',
    merge: 'sum',
    doc: 'first touches of a missing page of a userfaultfd-registered range, by a guest fault or a `host_read`/`host_write`',
    kernel: '`handle_userfault()` on the fault\'s `hva_to_pfn()`',
  },
  'leaves.4k': {
    unit: 'count',
    merge: 'sum',
    doc: '4K leaves installed by faults (cumulative; split children not counted)',
    kernel: 'x86 `pages_4k` stat increments (`kvm_update_page_stats()`)',
  },
  'leaves.2m': {
    unit: 'count',
    merge: 'sum',
    doc: '2M leaves installed by faults (cumulative)',
    kernel: 'x86 `pages_2m` stat increments',
  },
  'leaves.1g': {
    unit: 'count',
    merge: 'sum',
    doc: '1G leaves installed by faults (cumulative)',
    kernel: 'x86 `pages_1g` stat increments',
  },
  'mapped.4k': {
    unit: 'bytes',
    merge: 'sum',
    doc: 'bytes mapped by 4K leaves now (end of run; at the row, for `expect`)',
    kernel: 'x86 `pages_4k` stat x 4 KiB',
  },
  'mapped.2m': {
    unit: 'bytes',
    merge: 'sum',
    doc: 'bytes mapped by 2M leaves now',
    kernel: 'x86 `pages_2m` stat x 2 MiB',
  },
  'mapped.1g': {
    unit: 'bytes',
    merge: 'sum',
    doc: 'bytes mapped by 1G leaves now',
    kernel: 'x86 `pages_1g` stat x 1 GiB',
  },
  splits: {
    unit: 'count',
    merge: 'sum',
    doc: 'huge leaves replaced by a table of 512 smaller ones (eager split, dirty logging, conversions)',
    kernel: '`tdp_mmu_split_huge_page()` (x86), `kvm_pgtable_stage2_split()` (arm64)',
  },
  zaps: {
    unit: 'count',
    merge: 'sum',
    doc: 'leaves removed by any invalidation (memslot delete or move, mmu notifier, punch hole, conversion)',
    kernel: '`tdp_mmu_zap_leafs()` (x86), `kvm_pgtable_stage2_unmap()` (arm64)',
  },
  'tlb.flushes': {
    unit: 'count',
    merge: 'flush-union',
    doc: 'TLB flushes: one per operation that changed a live entry',
    kernel: '`kvm_flush_remote_tlbs()` / `kvm_flush_remote_tlbs_range()`',
  },
  'tables.peak': {
    unit: 'count',
    merge: 'tables-peak',
    doc: 'the most 512-entry page-table pages live at once',
    kernel: 'SecPageTables (`kvm_account_pgtable_pages()`)',
  },
  conversions: {
    unit: 'count',
    merge: 'sum',
    doc: 'KVM_SET_MEMORY_ATTRIBUTES calls that changed the private/shared state of some page',
    kernel: '`kvm_vm_set_mem_attributes()`',
  },
  'dirty.pages': {
    unit: 'count',
    merge: 'sum',
    doc: 'pages newly marked in a slot\'s dirty bitmap (once until harvested)',
    kernel: '`mark_page_dirty_in_slot()`',
  },
  'iotlb.pinned': {
    unit: 'count',
    merge: 'sum',
    doc: 'pages pinned by vhost-vdpa IOTLB entries now (a leaky release keeps them)',
    kernel: '`pin_user_pages()` in `vhost_vdpa_pa_map()`, unpinned by `vhost_vdpa_pa_unmap()`',
  },
  'iotlb.leaked': {
    unit: 'count',
    merge: 'sum',
    doc: 'pages left pinned when the device was released (`vdpa-release=leaky`)',
    kernel: '`vhost_vdpa_release()` -> `vhost_vdpa_cleanup()`',
  },
  'iotlb.freed_domain_uses': {
    unit: 'count',
    merge: 'sum',
    doc: 'unmaps done after the IOMMU domain was freed (`vdpa-release=free-first`)',
    kernel: '`vhost_vdpa_cleanup()` ordering against `vhost_vdpa_free_domain()`',
  },
  'hypshare.phantom': {
    unit: 'count',
    merge: 'sum',
    doc: 'pfns that became phantom shares: a host tree node, EL2 not sharing the page',
    kernel: '`kvm_share_hyp()` / `__pkvm_host_share_hyp`',
  },
  'hypshare.lost': {
    unit: 'count',
    merge: 'sum',
    doc: 'pfns that became lost shares: EL2 sharing the page, no host tree node',
    kernel: '`kvm_unshare_hyp()` / `__pkvm_host_unshare_hyp`',
  },
  divergences: {
    unit: 'count',
    merge: 'divergences',
    doc: 'rows whose recorded `ret` the model answered differently, and `expect` rows that failed',
    kernel: '-',
  },
  'iotlb.maps': {
    unit: 'count',
    merge: 'sum',
    doc: 'vhost-vdpa IOTLB entries live now',
    kernel: '`vhost_iotlb_add_range()` / `vhost_iotlb_del_range()`',
  },
  'iotlb.leaked_maps': {
    unit: 'count',
    merge: 'sum',
    doc: 'IOTLB entries abandoned by a leaky release',
    kernel: '`vhost_vdpa_cleanup()`',
  },
  'iotlb.device_commits': {
    unit: 'count',
    merge: 'sum',
    doc: 'IOTLB changes that reached the device: one per message outside a batch, one per batch end',
    kernel: '`set_map()` / `dma_map()` from `vhost_vdpa_process_iotlb_msg()`',
  },
  'iotlb.perm_warns': {
    unit: 'count',
    merge: 'sum',
    doc: 'updates whose perm is not RO, WO or RW (mapped anyway, with no access bits)',
    kernel: 'the WARN in `perm_to_iommu_flags()`',
  },
  'hypshare.shared': {
    unit: 'count',
    merge: 'sum',
    doc: 'pages EL2 shares with the host now',
    kernel: 'the page state kept by `__pkvm_host_share_hyp` / `__pkvm_host_unshare_hyp`',
  },
  'hypshare.host_shared': {
    unit: 'count',
    merge: 'sum',
    doc: 'pfns the host believes it shares with EL2 now (nodes of its share tree, whatever their counts)',
    kernel: 'the `hyp_shared_pfns` rb-tree kept by `share_pfn_hyp()` / `unshare_pfn_hyp()`',
  },
  'hypshare.hypercalls': {
    unit: 'count',
    merge: 'sum',
    doc: 'share and unshare hypercalls made to EL2',
    kernel: '`kvm_call_hyp_nvhe(__pkvm_host_share_hyp / __pkvm_host_unshare_hyp)`',
  },
  'hypshare.desynced': {
    unit: 'count',
    merge: 'sum',
    doc: 'pfns whose host and EL2 views disagree now',
    kernel: '-',
  },
  'hypshare.desync_ops': {
    unit: 'count',
    merge: 'sum',
    doc: 'share or unshare calls on a pfn already desynced',
    kernel: '-',
  },
  'gmem.splits': {
    unit: 'count',
    merge: 'sum',
    doc: 'guest_memfd huge folios split by conversions (`gmem-folio`, `gmem-split`)',
    kernel: 'guest_memfd huge-folio designs (not upstream)',
  },
  'gmem.merges': {
    unit: 'count',
    merge: 'sum',
    doc: 'guest_memfd folios merged back once their range is uniform again',
    kernel: 'guest_memfd huge-folio designs (not upstream)',
  },
  'exits.internal': {
    unit: 'count',
    merge: 'sum',
    doc: 'x86 instruction fetches from a gpa with no memslot',
    kernel: '`KVM_EXIT_INTERNAL_ERROR` from `handle_emulation_failure()`',
  },
  // Per-op counts the time estimates price (src/estimate/, docs/calibration.md).
  'memslot.creates': {
    unit: 'count',
    merge: 'once',
    doc: 'a `memslot` row that creates a slot',
    kernel: '`KVM_MR_CREATE`: `kvm_create_memslot()`',
  },
  'memslot.deletes': {
    unit: 'count',
    merge: 'once',
    doc: 'a `memslot` row that deletes one (size 0)',
    kernel: '`KVM_MR_DELETE`: `kvm_delete_memslot()`',
  },
  'memslot.moves': {
    unit: 'count',
    merge: 'once',
    doc: 'a `memslot` row that moves one',
    kernel: '`KVM_MR_MOVE`: `kvm_move_memslot()`',
  },
  'memslot.flag_changes': {
    unit: 'count',
    merge: 'once',
    doc: 'a `memslot` row that changes only flags',
    kernel: '`KVM_MR_FLAGS_ONLY`: `kvm_update_flags_memslot()`',
  },
  'memslot.zaps': {
    unit: 'count',
    merge: 'sum',
    doc: 'stage-2 leaves those changes zapped',
    kernel: '`kvm_arch_flush_shadow_memslot()`, `kvm_mmu_zap_collapsible_sptes()`',
  },
  'memslot.wrprots': {
    unit: 'count',
    merge: 'sum',
    doc: 'leaves write-protected when dirty logging turned on',
    kernel: '`kvm_mmu_slot_apply_flags()` -> `kvm_mmu_slot_remove_write_access()`',
  },
  'dirty.gets': {
    unit: 'count',
    merge: 'once',
    doc: 'successful `dirty_get` rows',
    kernel: '`kvm_vm_ioctl_get_dirty_log()`',
  },
  'dirty.harvested': {
    unit: 'count',
    merge: 'sum',
    doc: 'pages they reported and write-protected again (no manual protect)',
    kernel: '`kvm_get_dirty_log_protect()`',
  },
  'conversions.pages': {
    unit: 'count',
    merge: 'sum',
    doc: 'gfns whose private/shared attribute a conversion changed',
    kernel: '`kvm_vm_set_mem_attributes()`',
  },
  'gmem.punches': {
    unit: 'count',
    merge: 'sum',
    doc: 'successful `gmem_punch` rows',
    kernel: '`kvm_gmem_punch_hole()`',
  },
  'gmem.punched_pages': {
    unit: 'count',
    merge: 'sum',
    doc: 'the pages those rows cover',
    kernel: '`truncate_inode_pages_range()` under `kvm_gmem_punch_hole()`',
  },
  breaks: {
    unit: 'count',
    merge: 'sum',
    doc: 'arm64 blocks replaced by an empty table on a fault that maps smaller (dirty logging): the rest of the block faults again',
    kernel: '`stage2_map_walk_leaf()` after `stage2_try_break_pte()` (arm64 hyp/pgtable.c)',
  },
  'faults.exec_perm': {
    unit: 'count',
    merge: 'sum',
    doc: 'arm64 instruction fetches from a page a data fault mapped non-executable (no FEAT_DIC: `dic=off`)',
    kernel: '`user_mem_abort()` permission fault -> `kvm_pgtable_stage2_relax_perms()` with the icache invalidated',
  },
  'aborts.pabt': {
    unit: 'count',
    merge: 'sum',
    doc: 'arm64 instruction fetches from an IPA with no usable memslot: a prefetch abort is injected and KVM_RUN goes on',
    kernel: '`kvm_handle_guest_abort()` -ENOEXEC -> `kvm_inject_pabt()`',
  },
  behaviour_changes: {
    unit: 'count',
    // Shards hold every differing ret as a divergence; sharded replay reclassifies them after the merge.
    merge: 'sum',
    doc: "rows whose recorded `ret` the model answered differently under a profile other than the trace's `# recorded-under:` (another kernel's answer, not a divergence)",
    kernel: '-',
  },
  recovered: {
    unit: 'count',
    merge: 'sum',
    doc: 'huge mappings rebuilt in place from a table of small leaves when dirty logging stops (x86, 6.13+): no zap, no refault',
    kernel: '`kvm_mmu_recover_huge_pages()` -> `recover_huge_pages_range()`',
  },
  'faults.cow': {
    unit: 'count',
    merge: 'sum',
    doc: 'write faults on a page the host mapped to the zero page: the host copies it, its mmu notifier zaps the read-only mapping and the fault retries (each counts one more in `faults`)',
    kernel: '`hva_to_pfn()` -> `do_wp_page()` / `do_huge_pmd_wp_page()`; `is_page_fault_stale()` (x86), `mmu_invalidate_retry()` (arm64)',
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricName = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

/** Metric ids, e.g. `M.faults`, for indexing a counters array. */
export const M = Object.fromEntries(METRIC_NAMES.map((name, i) => [name.replace('.', '_'), i])) as {
  readonly [K in MetricName as K extends `${infer A}.${infer B}` ? `${A}_${B}` : K]: number;
};

export const METRIC_COUNT = METRIC_NAMES.length;

/** The unit of a modeled metric for results.csv (count for names that are not modeled metrics). */
export function metricUnit(name: string): MetricUnit {
  return (METRICS as Record<string, MetricSpec>)[name]?.unit ?? 'count';
}

export function metricId(name: string): number {
  return (METRIC_NAMES as readonly string[]).indexOf(name);
}

export function newCounters(): Float64Array {
  return new Float64Array(METRIC_COUNT);
}
