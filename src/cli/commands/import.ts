// `s2bench import strace|tracecmd` as the command line knows it: options and help. What they do is in
// ../actions/import.ts, imported when a command runs (the rule is in index.ts).

import { Option, type Command } from 'commander';
import type { StraceCliOptions, TracecmdCliOptions } from '../actions/import.js';

export function registerImportCommands(program: Command): void {
  const cmd = program.command('import').description('turn recordings of real VMs into traces');
  cmd
    .command('strace')
    .description(
      'import `strace -f -ttt -e trace=ioctl,fallocate,close` of a VMM: memslots, guest_memfd, attributes, dirty log (one trace per VM)',
    )
    .argument('<file>', 'strace output')
    .requiredOption('-o, --out <file>', 'output trace (.csv or .s2t); with several VMs, one file per VM: NAME.vmFD.EXT')
    .option('--vm <fd>', 'import only the VM with this fd (also: the VM fd when strace attached after KVM_CREATE_VM)')
    .option('--strict', 'any unparseable or unimportable line is an error (exit 1)', false)
    .option('--faults <file>', 'merge a `trace-cmd report` / `perf script` fault recording of the same run, by timestamp')
    .option('--faults-offset <seconds>', 'added to the fault recording\'s timestamps to put them on strace\'s clock', '0')
    .option('-q, --quiet', 'no summary on stderr', false)
    .action(async (file: string, opts: StraceCliOptions) => {
      process.exitCode = await (await import('../actions/import.js')).importStraceCommand(file, opts);
    });
  cmd
    .command('tracecmd')
    .description(
      'import `trace-cmd report` / `perf script` text of kvm:kvm_page_fault (x86), kvm:kvm_guest_fault (arm64), kvm_mmio, kvm_userspace_exit, kvmmmu events',
    )
    .argument('<file>', 'trace-cmd report or perf script output')
    .requiredOption('-o, --out <file>', 'output trace (.csv or .s2t)')
    .option('--strict', 'any unparseable line is an error (exit 1)', false)
    .addOption(
      new Option('--vendor <vendor>', "x86 kvm_page_fault error_code: intel (EPT exit qualification) or amd (PFERR bits); auto looks at kvm_exit reasons")
        .choices(['auto', 'intel', 'amd'])
        .default('auto'),
    )
    .option('--expect-levels', 'end with expect rows for leaves.4k/2m/1g counted from kvmmmu:kvm_mmu_set_spte', false)
    .option('-q, --quiet', 'no summary on stderr', false)
    .action(async (file: string, opts: TracecmdCliOptions) => {
      process.exitCode = await (await import('../actions/import.js')).importTracecmdCommand(file, opts);
    });
}
