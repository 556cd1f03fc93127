// The guests the record-vm tests and `npm run record:vms` record with Debian's QEMU: SeaBIOS alone
// (to "No bootable device."), SeaBIOS then migrated to /dev/null over QMP (dirty logging), and a
// Debian kernel (unpacked by scripts/install-system-deps.sh into .cache/record-vm/) with a busybox
// initramfs built here. Nothing is downloaded at run time.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from '../package-info.js';
import { recordVm, type RecordVmResult } from './session.js';

export const QEMU = 'qemu-system-x86_64';
export const BUSYBOX = '/bin/busybox';
/** What SeaBIOS prints when it has nothing to boot. */
export const SEABIOS_DONE = 'No bootable device.';
/** What the initramfs's init prints when it has done its work, just before it powers the VM off. */
export const LINUX_DONE = 's2bench-guest: done';

/** Why QEMU recordings cannot run here, or undefined when they can. */
export function qemuSkipReason(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `needs Linux on x86-64 (this is ${process.platform}/${process.arch})`;
  if (!existsSync('/dev/kvm')) return '/dev/kvm does not exist (no KVM on this machine)';
  if (spawnSync(process.env['CC'] || 'cc', ['--version']).status !== 0) return 'no C compiler (cc) to build the recorder library';
  if (spawnSync(QEMU, ['--version']).status !== 0) return `${QEMU} not installed (scripts/install-system-deps.sh installs Debian's qemu-system-x86)`;
  return undefined;
}

/** The Debian kernel unpacked into the cache, or undefined. */
export function guestKernel(): string | undefined {
  const boot = join(packageRoot(), '.cache', 'record-vm', 'kernel', 'boot');
  if (!existsSync(boot)) return undefined;
  const name = readdirSync(boot).find((f) => f.startsWith('vmlinuz-'));
  return name === undefined ? undefined : join(boot, name);
}

/** Why the Linux-boot recording cannot run here (beyond qemuSkipReason), or undefined. */
export function linuxSkipReason(): string | undefined {
  if (guestKernel() === undefined) return 'no Debian kernel in .cache/record-vm/ (scripts/install-system-deps.sh unpacks linux-image-cloud-amd64 there)';
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} missing (install busybox-static)`;
  return undefined;
}

/** Flags every recording uses: KVM, no devices but a serial port to a file, exit instead of reboot. */
function baseArgs(memMb: number, serial: string): string[] {
  return ['-enable-kvm', '-m', String(memMb), '-nographic', '-monitor', 'none', '-nodefaults', '-no-reboot', '-serial', `file:${serial}`];
}

export function seabiosArgs(serial: string): string[] {
  return baseArgs(128, serial);
}

export function linuxArgs(kernel: string, initrd: string, serial: string): string[] {
  return [...baseArgs(256, serial), '-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0 earlyprintk=serial,ttyS0 panic=-1'];
}

// The init of the initramfs: say so on the console, write 16 MiB into its tmpfs (guest first touches
// beyond the kernel's own), and power off.
const INIT = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t tmpfs tmpfs /tmp
/bin/busybox echo "s2bench-guest: init reached"
/bin/busybox dd if=/dev/zero of=/tmp/fill bs=1M count=16 2>/dev/null
/bin/busybox echo "${LINUX_DONE}"
/bin/busybox poweroff -f
`;

/** Writes a newc cpio initramfs: /init, /bin/busybox (static), /dev/console, /proc, /tmp. */
export function writeInitramfs(path: string): void {
  const parts: Buffer[] = [];
  let ino = 1;
  const entry = (name: string, mode: number, data: Buffer = Buffer.alloc(0), rdev: [number, number] = [0, 0]): void => {
    const fields = [ino++, mode, 0, 0, 1, 0, data.length, 0, 0, rdev[0], rdev[1], name.length + 1, 0];
    const header = `070701${fields.map((v) => v.toString(16).padStart(8, '0')).join('')}${name}\0`;
    parts.push(Buffer.from(header, 'latin1'), pad(header.length), data, pad(data.length));
  };
  entry('bin', 0o40755);
  entry('dev', 0o40755);
  entry('proc', 0o40755);
  entry('tmp', 0o41777);
  entry('dev/console', 0o20600, Buffer.alloc(0), [5, 1]);
  entry('bin/busybox', 0o100755, readFileSync(BUSYBOX));
  entry('init', 0o100755, Buffer.from(INIT, 'utf8'));
  entry('TRAILER!!!', 0);
  writeFileSync(path, Buffer.concat(parts));
}

function pad(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

export interface GuestRecording {
  result: RecordVmResult;
  /** Seconds from start until the marker appeared on the console, or undefined if it never did. */
  markerS: number | undefined;
  console: string;
}

/**
 * Records QEMU with `args` (whose serial port writes to `serial`) until `marker` appears on the console
 * or `timeoutS` passes; the VMM is then stopped and the trace completed. `wrapper` runs QEMU under
 * another command (e.g. strace): the library follows the exec into QEMU.
 */
export async function recordGuest(
  args: readonly string[],
  out: string,
  serial: string,
  marker: string,
  timeoutS: number,
  wrapper: readonly string[] = [],
  extraMeta: ReadonlyArray<readonly [string, string]> = [],
): Promise<GuestRecording> {
  const stop = new AbortController();
  const watch = watchConsole(serial, marker, stop);
  const [command, ...commandArgs] = [...wrapper, QEMU, ...args];
  try {
    const result = await recordVm({ command: command!, args: commandArgs, out, durationS: timeoutS, stdio: 'ignore', stop: stop.signal, extraMeta });
    return { result, markerS: watch.seenAt(), console: readConsole(serial) };
  } finally {
    watch.end();
  }
}

function readConsole(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

/** Polls the console file; aborts `stop` when the marker shows. */
function watchConsole(path: string, marker: string, stop: AbortController): { seenAt(): number | undefined; end(): void } {
  const t0 = performance.now();
  writeFileSync(path, '');
  let seen: number | undefined;
  const timer = setInterval(() => {
    if (seen === undefined && readConsole(path).includes(marker)) {
      seen = (performance.now() - t0) / 1000;
      stop.abort();
    }
  }, 100);
  return { seenAt: () => seen, end: () => clearInterval(timer) };
}

/** What QEMU's `query-migrate` returned when the migration ended (status, total-time, ram statistics). */
export type MigrationInfo = { status: string; 'total-time'?: number; ram?: Record<string, number> };

/**
 * Over the QMP socket at `qmpPath`: migrate to /dev/null, wait until it completes or fails, quit QEMU.
 * QEMU enables KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 and logs every RAM slot while it migrates.
 */
export async function migrateToNull(qmpPath: string): Promise<MigrationInfo> {
  const socket = connect(qmpPath);
  const lines = createInterface({ input: socket })[Symbol.asyncIterator]();
  try {
    await lines.next(); // the greeting
    const call = async (execute: string, args?: object): Promise<{ return?: unknown; error?: unknown }> => {
      socket.write(`${JSON.stringify(args ? { execute, arguments: args } : { execute })}\n`);
      for (;;) {
        const next = await lines.next();
        if (next.done === true) throw new Error(`QMP connection closed during ${execute}`);
        const reply = JSON.parse(next.value as string) as { return?: unknown; error?: unknown };
        if ('return' in reply || 'error' in reply) return reply;
      }
    };
    await call('qmp_capabilities');
    await call('migrate', { uri: 'exec:cat > /dev/null' });
    for (;;) {
      const info = (await call('query-migrate')).return as MigrationInfo;
      if (info.status === 'completed' || info.status === 'failed') {
        await call('quit');
        return info;
      }
      await new Promise((done) => setTimeout(done, 200));
    }
  } finally {
    socket.destroy();
  }
}

/**
 * Records SeaBIOS until `SEABIOS_DONE`, then its migration to /dev/null; QEMU quits when the migration
 * ends, which ends the recording. `qmpPath` is the QMP socket to create.
 */
export async function recordMigration(
  out: string,
  serial: string,
  qmpPath: string,
  timeoutS: number,
  extraMeta: ReadonlyArray<readonly [string, string]> = [],
): Promise<GuestRecording & { migration: MigrationInfo }> {
  const stop = new AbortController();
  const watch = watchConsole(serial, SEABIOS_DONE, stop);
  const args = [...seabiosArgs(serial), '-qmp', `unix:${qmpPath},server=on,wait=off`];
  try {
    // The marker starts the migration instead of stopping the VMM: a signal nobody listens to.
    let ended = false;
    const recording = recordVm({ command: QEMU, args, out, durationS: timeoutS, stdio: 'ignore', extraMeta }).finally(() => {
      ended = true;
    });
    while (watch.seenAt() === undefined && !ended) await new Promise((done) => setTimeout(done, 100));
    if (watch.seenAt() === undefined) {
      await recording;
      throw new Error(`QEMU ended before SeaBIOS printed '${SEABIOS_DONE}': no migration recorded`);
    }
    const migration = await migrateToNull(qmpPath);
    const result = await recording;
    return { result, markerS: watch.seenAt(), console: readConsole(serial), migration };
  } finally {
    watch.end();
  }
}
