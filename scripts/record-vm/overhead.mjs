// Recording overhead: the same guest with and without the recorder library, runs interleaved so that
// both see the same machine load. Two figures: SeaBIOS's time to "No bootable device." (few faults),
// and a migration of the idle guest's 128 MiB to /dev/null over QMP (every page read by the host once:
// tens of thousands of userfaultfd faults, plus dirty-log gets and clears), as QEMU's query-migrate
// total-time reports it. Run after `npm run build`: `node scripts/record-vm/overhead.mjs [RUNS]`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as guests from '../../dist/src/record-vm/guests.js';
import { recordVm } from '../../dist/src/record-vm/session.js';

const runs = Number(process.argv[2] ?? 3);
const skip = guests.qemuSkipReason();
if (skip) {
  console.error(`overhead: ${skip}`);
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 's2bench-overhead-'));
const serial = join(dir, 'console.txt');
const qmpPath = join(dir, 'qmp.sock');
const args = [...guests.seabiosArgs(serial), '-qmp', `unix:${qmpPath},server=on,wait=off`];

/** Once SeaBIOS is done: migrate to /dev/null, wait for completion, quit; QEMU's total-time in ms. */
async function migrate() {
  const info = await guests.migrateToNull(qmpPath);
  if (info.status !== 'completed') throw new Error('migration failed');
  return info['total-time'];
}

const results = { plain: { boot: [], migrate: [] }, recorded: { boot: [], migrate: [] } };
try {
  for (let i = 0; i < runs; i++) {
    for (const mode of ['plain', 'recorded']) {
      // The marker starts the migration; QEMU quits when it is done.
      writeFileSync(serial, '');
      const onMarker = new Promise((done) => {
        const timer = setInterval(() => {
          let text = '';
          try {
            text = readFileSync(serial, 'latin1');
          } catch {}
          if (text.includes(guests.SEABIOS_DONE)) {
            clearInterval(timer);
            done(performance.now());
          }
        }, 100);
      });
      const t0 = performance.now();
      const run =
        mode === 'plain'
          ? new Promise((done) => spawn(guests.QEMU, args, { stdio: 'ignore' }).once('exit', done))
          : recordVm({ command: guests.QEMU, args, out: join(dir, 'r.s2t'), stdio: 'ignore', durationS: 300 });
      const markerAt = await onMarker;
      const migration = await migrate();
      await run;
      results[mode].boot.push((markerAt - t0) / 1000);
      results[mode].migrate.push(migration / 1000);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const show = (what, unit) => {
  const p = results.plain[what];
  const r = results.recorded[what];
  console.log(
    `${unit}: without recorder ${p.map((x) => x.toFixed(2)).join(', ')}; with ${r.map((x) => x.toFixed(2)).join(', ')}; ` +
      `median ${median(p).toFixed(2)} s -> ${median(r).toFixed(2)} s (${((median(r) / median(p) - 1) * 100).toFixed(0)}%)`,
  );
};
show('boot', `SeaBIOS to '${guests.SEABIOS_DONE}'`);
show('migrate', 'migration of 128 MiB to /dev/null (QEMU total-time)');
