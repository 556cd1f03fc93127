// Running the native recorder: build it from source when missing or stale, check that /dev/kvm is
// usable, and record sequences (a fresh VM each) in one process so thousands take seconds.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UnavailableError } from '../errors.js';
import { packageRoot } from '../package-info.js';
import type { TraceChunk } from '../trace/schema.js';
import { encodeSequence, parseAnswers, type SequenceAnswer } from './protocol.js';

/** The recorder cannot run here (no compiler, no /dev/kvm, not Linux): a reason, not a crash. */
export class RecorderUnavailable extends UnavailableError {
  override name = 'RecorderUnavailable';
}

const RECORDER_DIR = join(packageRoot(), 'scripts', 'recorder');

const built = new Map<string, string>();

/** A native program of scripts/recorder/ (`recorder`, `calibrate`), (re)built from source with the system compiler when needed. */
export function nativeBinary(program: 'recorder' | 'calibrate'): string {
  const known = built.get(program);
  if (known !== undefined) return known;
  const result = spawnSync(process.execPath, [join(RECORDER_DIR, 'build.mjs'), program], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new RecorderUnavailable((result.stderr || result.error?.message || `${program} build failed`).trim());
  }
  const path = result.stdout.trim();
  built.set(program, path);
  return path;
}

/** The recorder binary, (re)built from scripts/recorder/*.c with the system compiler when needed. */
export function recorderBinary(): string {
  return nativeBinary('recorder');
}

export interface KvmHost {
  /** `uname -r` of the kernel that answers. */
  kernel: string;
  machine: string;
  /** The probe line as printed (capabilities). */
  detail: string;
}

let probed: KvmHost | undefined;

/** Builds the recorder and checks that /dev/kvm can create a VM. Throws RecorderUnavailable otherwise. */
export function probeKvm(): KvmHost {
  if (probed !== undefined) return probed;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new RecorderUnavailable(`recording needs Linux on x86-64 with /dev/kvm (this is ${process.platform}/${process.arch})`);
  }
  if (!existsSync('/dev/kvm')) throw new RecorderUnavailable('/dev/kvm does not exist (no KVM on this machine)');
  const bin = recorderBinary();
  const result = spawnSync(bin, ['--probe'], { encoding: 'utf8' });
  const line = (result.stdout ?? '').trim();
  if (result.status !== 0 || !line.startsWith('ok ')) {
    throw new RecorderUnavailable(line.replace(/^unusable /, '') || (result.stderr ?? '').trim() || 'recorder probe failed');
  }
  const [, kernel = '', machine = ''] = line.split(' ');
  probed = { kernel, machine, detail: line.slice(3) };
  return probed;
}

/** Records each sequence (all rows of its chunks) on its own fresh VM; answers in order. */
export function recordSequences(sequences: ReadonlyArray<readonly TraceChunk[]>): SequenceAnswer[] {
  const bin = recorderBinary();
  const input = sequences.map((chunks) => encodeSequence(chunks)).join('');
  const result = spawnSync(bin, [], { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (result.error) throw new RecorderUnavailable(`cannot run the recorder: ${result.error.message}`);
  if (result.status !== 0) {
    throw new RecorderUnavailable(`recorder exited with status ${result.status}: ${(result.stderr ?? '').trim()}`);
  }
  const answers = parseAnswers(result.stdout);
  if (answers.length !== sequences.length) {
    throw new Error(`recorder answered ${answers.length} sequences of ${sequences.length}: ${(result.stderr ?? '').trim()}`);
  }
  return answers;
}
