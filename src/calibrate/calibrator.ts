// Running the native calibrator (scripts/recorder/calibrate.c) and reading what it prints: samples per
// cost (one per repeat), how each was measured, and what this host could not measure.

import { spawnSync } from 'node:child_process';
import { nativeBinary, probeKvm, RecorderUnavailable } from '../record/recorder.js';

export interface CalibratorOptions {
  /** Repeats, a fresh VM each: one sample per cost per repeat. */
  repeats: number;
  /** 4K pages per batch (a sample is a batch's time over its size). */
  pages: number;
  /** 2M pages per THP batch. */
  huge: number;
}

export interface CalibratorOutput {
  meta: Record<string, string>;
  samples: Record<string, { per: string; values: number[] }>;
  how: Record<string, string>;
  skipped: Record<string, string>;
}

/** Parses the calibrator's lines (see calibrate.c's header); throws on a line it does not know. */
export function parseCalibratorOutput(text: string): CalibratorOutput {
  const out: CalibratorOutput = { meta: {}, samples: {}, how: {}, skipped: {} };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [tag, name = '', ...rest] = line.split(' ');
    if (tag === 'm') out.meta[name] = rest.join(' ');
    else if (tag === 'n') out.how[name] = rest.join(' ');
    else if (tag === 's') out.skipped[name] = rest.join(' ');
    else if (tag === 'c') {
      // `c <cost> <per...> <samples...>`: the unit may be two words ("dirty page"), samples are numbers.
      const firstNumber = rest.findIndex((w) => w !== '' && Number.isFinite(Number(w)));
      const per = (firstNumber < 0 ? rest : rest.slice(0, firstNumber)).join(' ');
      const values = firstNumber < 0 ? [] : rest.slice(firstNumber).map(Number);
      out.samples[name] = { per, values };
    } else throw new Error(`calibrator printed an unexpected line: '${line.slice(0, 120)}'`);
  }
  return out;
}

/** Builds the calibrator if needed and runs it on /dev/kvm. Throws RecorderUnavailable when it cannot. */
export function runCalibrator(options: CalibratorOptions): CalibratorOutput {
  probeKvm();
  const bin = nativeBinary('calibrate');
  const args = ['--repeats', String(options.repeats), '--pages', String(options.pages), '--huge', String(options.huge)];
  const result = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (result.error) throw new RecorderUnavailable(`cannot run the calibrator: ${result.error.message}`);
  if (result.status !== 0) throw new RecorderUnavailable(`calibrator exited with status ${result.status}: ${(result.stderr ?? '').trim()}`);
  if ((result.stderr ?? '').trim() !== '') process.stderr.write(result.stderr);
  return parseCalibratorOutput(result.stdout);
}
