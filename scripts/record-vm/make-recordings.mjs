// Regenerates the shipped recordings of real VMs (traces/recorded/qemu-*.s2t): Debian's QEMU booting
// SeaBIOS to "No bootable device.", the same then migrated to /dev/null, and starting the Debian kernel that scripts/install-system-deps.sh
// unpacks into .cache/record-vm/ with a busybox initramfs, for a fixed time. Run after `npm run build`
// (`npm run record:vms` does both). The command line of each is in its `# source:` metadata.
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as guests from '../../dist/src/record-vm/guests.js';

const root = join(import.meta.dirname, '..', '..');
const skip = guests.qemuSkipReason();
if (skip) {
  console.error(`record:vms: ${skip}`);
  process.exit(1);
}
// Paths relative to the repository, so that the command lines in the metadata name no machine's paths.
process.chdir(root);
const cache = join('.cache', 'record-vm');
mkdirSync(cache, { recursive: true });
const LINUX_SECONDS = 30;
// Each recording replays under the version it was recorded on (this machine kind runs 6.18), the same
// without PML (whether the nested host had it is not known), and the previous long-term version.
const meta = [
  ['regenerate', 'npm run record:vms (after scripts/install-system-deps.sh)'],
  ['profiles', 'x86-tdp@6.18; x86-tdp@6.18,pml=off; x86-tdp@6.12'],
];
{
  const serial = join(cache, 'console.txt');
  const seabios = join('traces', 'recorded', 'qemu-seabios.s2t');
  const s = await guests.recordGuest(guests.seabiosArgs(serial), seabios, serial, guests.SEABIOS_DONE, 180, [], [
    ...meta,
    ['stopped', `when the console showed '${guests.SEABIOS_DONE}'`],
  ]);
  if (s.markerS === undefined) throw new Error(`SeaBIOS did not reach '${guests.SEABIOS_DONE}'`);
  console.log(`${seabios}: ${s.result.rows} rows, marker after ${s.markerS.toFixed(1)} s`);

  // SeaBIOS then migrated to /dev/null: KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 with INITIALLY_SET, dirty-log
  // gets and clears of every RAM slot, the host reading every page once.
  const migration = join('traces', 'recorded', 'qemu-migration.s2t');
  const m = await guests.recordMigration(migration, serial, join(cache, 'qmp.sock'), 300, [
    ...meta,
    ['stopped', `after SeaBIOS showed '${guests.SEABIOS_DONE}' and QEMU migrated to /dev/null over QMP, then quit`],
  ]);
  const ram = m.migration.ram ?? {};
  console.log(
    `${migration}: ${m.result.rows} rows; migration ${m.migration.status}: dirty-sync-count ${ram['dirty-sync-count']}, ` +
      `${m.result.counts.dirtyGets} dirty-log gets (${m.result.counts.dirtyPages} pages)`,
  );

  const why = guests.linuxSkipReason();
  if (why) throw new Error(why);
  const initrd = join(cache, 'initrd.cpio');
  guests.writeInitramfs(initrd);
  const linux = join('traces', 'recorded', 'qemu-linux-boot.s2t');
  const l = await guests.recordGuest(guests.linuxArgs(relative(root, guests.guestKernel()), initrd, serial), linux, serial, guests.LINUX_DONE, LINUX_SECONDS, [], [
    ...meta,
    ['stopped', `after ${LINUX_SECONDS} s, or when the console showed '${guests.LINUX_DONE}'`],
  ]);
  console.log(`${linux}: ${l.result.rows} rows in ${l.result.wallS.toFixed(1)} s; init ${l.markerS === undefined ? 'not reached' : `reached after ${l.markerS.toFixed(1)} s`}`);
}
