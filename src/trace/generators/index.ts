// The generators `s2bench gen NAME` knows: one descriptor each, naming the KVM selftest it models.
// Adding a generator is adding an entry here.

import { BOOT_OPTIONS, generateBoot } from './boot.js';
import { checkValues, optionList, type GeneratedTrace, type GeneratorOption, type GeneratorValues, type OptionSpecs, type OptionValues } from './common.js';
import { CONVERSIONS_OPTIONS, generateConversions } from './conversions.js';
import { DEMAND_PAGING_OPTIONS, generateDemandPaging } from './demand-paging.js';
import { DIRTY_LOG_OPTIONS, generateDirtyLog } from './dirty-log.js';
import { generateHypshare, HYPSHARE_OPTIONS } from './hypshare.js';
import { PAGE_FAULT_TEST_OPTIONS, generatePageFaultTestTrace } from './page-fault-test.js';
import { generateMemslots, MEMSLOTS_OPTIONS } from './memslots.js';
import { generateVdpa, VDPA_OPTIONS } from './vdpa.js';

export type { GeneratedTrace, GeneratorOption, GeneratorValues } from './common.js';

export interface Generator {
  name: string;
  /** One line: what it generates and which KVM selftest (or VMM behaviour) it models. */
  summary: string;
  options: readonly GeneratorOption[];
  /** Values are checked against `options` first (defaults filled in); deterministic for a seed. */
  generate(values: GeneratorValues): GeneratedTrace;
}

function entry<S extends OptionSpecs>(name: string, summary: string, specs: S, run: (o: OptionValues<S>) => GeneratedTrace): Generator {
  const options = optionList(specs);
  return { name, summary, options, generate: (values) => run(checkValues(name, options, values) as OptionValues<S>) };
}

export const GENERATORS: readonly Generator[] = [
  entry(
    'memslots',
    'many memslots: map, unmap, move and RW phases (KVM selftest memslot_perf_test)',
    MEMSLOTS_OPTIONS,
    generateMemslots,
  ),
  entry(
    'dirty-log',
    'populate, enable dirty logging, rounds of writes + KVM_GET/CLEAR_DIRTY_LOG (KVM selftest dirty_log_perf_test)',
    DIRTY_LOG_OPTIONS,
    generateDirtyLog,
  ),
  entry(
    'demand-paging',
    'vCPUs each touching their own range, optionally through userfaultfd (KVM selftest demand_paging_test)',
    DEMAND_PAGING_OPTIONS,
    generateDemandPaging,
  ),
  entry(
    'boot',
    'a QEMU-like boot: RAM split around legacy holes, read-only ROM slots, VGA dirty logging, guest touching RAM (modeled on a recorded QEMU 7.2 boot)',
    BOOT_OPTIONS,
    generateBoot,
  ),
  entry(
    'conversions',
    'private/shared conversions through guest_memfd and memory attributes (KVM selftest private_mem_conversions_test)',
    CONVERSIONS_OPTIONS,
    (o) => generateConversions(o),
  ),
  entry(
    'vdpa',
    "a VMM's vhost-vdpa IOTLB updates, churn and teardown (QEMU's vhost-vdpa memory listener)",
    VDPA_OPTIONS,
    (o) => generateVdpa(o),
  ),
  entry('hypshare', 'pKVM host<->hyp share/unshare sequences', HYPSHARE_OPTIONS, (o) => generateHypshare(o)),
  entry(
    'page-fault-test',
    'one row of the arm64 stage-2 fault matrix for the arm64-s2 profile (KVM selftest arm64/page_fault_test)',
    PAGE_FAULT_TEST_OPTIONS,
    generatePageFaultTestTrace,
  ),
];

export function findGenerator(name: string): Generator | undefined {
  return GENERATORS.find((g) => g.name === name);
}
