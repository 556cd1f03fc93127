// Recording overhead: wall time of the same guest (SeaBIOS to "No bootable device.") with and without
// the recorder library, runs interleaved so that both see the same machine load. Run after
// `npm run build`: `node scripts/record-vm/overhead.mjs [RUNS]`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as guests from '../../dist/src/record-vm/guests.js';

const runs = Number(process.argv[2] ?? 3);
const skip = guests.qemuSkipReason();
if (skip) {
  console.error(`overhead: ${skip}`);
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 's2bench-overhead-'));
const serial = join(dir, 'console.txt');
const args = guests.seabiosArgs(serial);
const plain = [];
const recorded = [];
try {
  for (let i = 0; i < runs; i++) {
    plain.push(await guests.timeGuest(args, serial, guests.SEABIOS_DONE, 180));
    recorded.push((await guests.recordGuest(args, join(dir, 'r.s2t'), serial, guests.SEABIOS_DONE, 180)).markerS);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const fmt = (xs) => xs.map((x) => (x === undefined ? 'timeout' : x.toFixed(1))).join(', ');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`SeaBIOS to '${guests.SEABIOS_DONE}', seconds: without recorder ${fmt(plain)}; with ${fmt(recorded)}`);
console.log(`median: ${median(plain).toFixed(1)} s -> ${median(recorded).toFixed(1)} s (${((median(recorded) / median(plain) - 1) * 100).toFixed(0)}%)`);
