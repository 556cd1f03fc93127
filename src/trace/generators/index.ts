// The generators `s2bench gen NAME` knows: one descriptor each, naming the KVM selftest it models.
// Adding a generator is adding an entry here.

import { BOOT_OPTIONS, generateBoot, type BootGenOptions } from './boot.js';
import { checkValues, type GeneratedTrace, type GeneratorOption, type GeneratorValues } from './common.js';
import { CONVERSIONS_OPTIONS, generateConversions, type ConversionsGenOptions } from './conversions.js';
import { DEMAND_PAGING_OPTIONS, generateDemandPaging, type DemandPagingGenOptions } from './demand-paging.js';
import { DIRTY_LOG_OPTIONS, generateDirtyLog, type DirtyLogGenOptions } from './dirty-log.js';
import { generateHypshare, HYPSHARE_GEN_DEFAULTS, type HypshareGenOptions } from './hypshare.js';
import { PAGE_FAULT_TEST_OPTIONS, generatePageFaultTestTrace, type PageFaultTestGenOptions } from './page-fault-test.js';
import { generateScale, SCALE_OPTIONS, type ScaleGenOptions } from './scale.js';
import { generateMemslots, MEMSLOTS_OPTIONS, type MemslotsGenOptions } from './memslots.js';
import { generateVdpa, VDPA_GEN_DEFAULTS, type VdpaGenOptions } from './vdpa.js';

export type { GeneratedTrace, GeneratorOption, GeneratorValues } from './common.js';

export interface Generator {
  name: string;
  /** One line: what it generates and which KVM selftest (or VMM behaviour) it models. */
  summary: string;
  options: readonly GeneratorOption[];
  /** Values are checked against `options` first (defaults filled in); deterministic for a seed. */
  generate(values: GeneratorValues): GeneratedTrace;
}

/** Descriptors of a generator whose options are a plain defaults object. */
function optionsFrom(defaults: object, descriptions: Record<string, string>): GeneratorOption[] {
  return Object.entries(defaults).map(([name, value]) => ({
    name,
    description: descriptions[name] ?? name,
    default: value as number | boolean | string,
    kind: typeof value === 'boolean' ? 'bool' : typeof value === 'string' ? 'choice' : Number.isInteger(value) ? 'int' : 'number',
    ...(typeof value === 'string' ? { choices: [value as string] } : {}),
  }));
}

function entry<T>(name: string, summary: string, options: readonly GeneratorOption[], run: (o: T) => GeneratedTrace): Generator {
  return { name, summary, options, generate: (values) => run(checkValues(name, options, values) as T) };
}

const VDPA_OPTIONS = optionsFrom(VDPA_GEN_DEFAULTS, {
  seed: 'random seed',
  ramMiB: 'guest RAM in MiB (a multiple of 2)',
  rounds: 'rounds of unmap/remap churn',
  batch: 'wrap each round in iotlb_batch_begin/end',
  cvqAsid: 'also map a shadow-virtqueue buffer in asid 1',
  kill: 'the VMM is killed: vdpa_close with everything still mapped',
});

const HYPSHARE_OPTIONS = optionsFrom(HYPSHARE_GEN_DEFAULTS, {
  seed: 'random seed',
  ops: 'share/unshare operations on objects',
  pfns: 'size of the pfn pool objects are drawn from',
  failRate: 'probability that a hypercall fails, in [0, 1]',
  kernel: 'the kernel the trace records',
  teardown: 'unshare every object still shared at the end',
}).map((o) =>
  o.name === 'kernel' ? { ...o, choices: ['v7.1', 'fixed'] } : o,
);

export const GENERATORS: readonly Generator[] = [
  entry<MemslotsGenOptions>(
    'memslots',
    'many memslots: map, unmap, move and RW phases (KVM selftest memslot_perf_test)',
    MEMSLOTS_OPTIONS,
    generateMemslots,
  ),
  entry<DirtyLogGenOptions>(
    'dirty-log',
    'populate, enable dirty logging, rounds of writes + KVM_GET/CLEAR_DIRTY_LOG (KVM selftest dirty_log_perf_test)',
    DIRTY_LOG_OPTIONS,
    generateDirtyLog,
  ),
  entry<DemandPagingGenOptions>(
    'demand-paging',
    'vCPUs each touching their own range, optionally through userfaultfd (KVM selftest demand_paging_test)',
    DEMAND_PAGING_OPTIONS,
    generateDemandPaging,
  ),
  entry<BootGenOptions>(
    'boot',
    'a QEMU-like boot: RAM split around legacy holes, read-only ROM slots, VGA dirty logging, guest touching RAM (modeled on a recorded QEMU 7.2 boot)',
    BOOT_OPTIONS,
    generateBoot,
  ),
  entry<ConversionsGenOptions>(
    'conversions',
    'private/shared conversions through guest_memfd and memory attributes (KVM selftest private_mem_conversions_test)',
    CONVERSIONS_OPTIONS,
    (o) => generateConversions(o),
  ),
  entry<VdpaGenOptions>(
    'vdpa',
    "a VMM's vhost-vdpa IOTLB updates, churn and teardown (QEMU's vhost-vdpa memory listener)",
    VDPA_OPTIONS,
    (o) => generateVdpa(o),
  ),
  entry<HypshareGenOptions>('hypshare', 'pKVM host<->hyp share/unshare sequences', HYPSHARE_OPTIONS, (o) => generateHypshare(o)),
  entry<PageFaultTestGenOptions>(
    'page-fault-test',
    'one row of the arm64 stage-2 fault matrix for the arm64-s2 profile (KVM selftest arm64/page_fault_test)',
    PAGE_FAULT_TEST_OPTIONS,
    generatePageFaultTestTrace,
  ),
  entry<ScaleGenOptions>(
    'scale',
    'a big guest in N events: first touch, repeated hits, a dirty-log pass, memslot moves (npm run bench:scale)',
    SCALE_OPTIONS,
    generateScale,
  ),
];

export function findGenerator(name: string): Generator | undefined {
  return GENERATORS.find((g) => g.name === name);
}
