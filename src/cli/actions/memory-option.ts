// `--max-memory SIZE` of run and replay: the most the model may hold per job (src/core/model-memory.ts,
// docs/reliability.md). A trace that would need more fails its job with its file and row named,
// instead of an out-of-memory abort that takes the whole run with it. The option's help text is in
// commands/option-help.ts.

import { totalmem } from 'node:os';
import bytes from 'bytes';
import { UsageError } from '../../errors.js';

/** The default never exceeds this: no shipped trace's model comes near it. */
const DEFAULT_CEILING = 4 * 2 ** 30;

/** Half of this machine's memory over `concurrentJobs`, whole MiB, at most DEFAULT_CEILING. */
export function defaultMaxMemory(concurrentJobs: number): number {
  const share = totalmem() / 2 / Math.max(1, concurrentJobs);
  return Math.min(DEFAULT_CEILING, Math.floor(share / 2 ** 20) * 2 ** 20);
}

/**
 * `--max-memory`: a whole number of bytes or a size with a unit (KB, MB, GB, TB: powers of 1024);
 * 0 is no limit (Infinity). Absent: `fallback`.
 */
export function maxMemoryOption(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  // bytes.parse() would read '4g' as 4 (parseInt); only a number with a known unit, or none, is a size.
  const parsed = /^\d+(\.\d+)?\s*(b|kb|mb|gb|tb)?$/i.test(text.trim()) ? bytes.parse(text.trim()) : null;
  if (parsed === null || !Number.isSafeInteger(Math.floor(parsed))) {
    throw new UsageError(`--max-memory takes a size such as 2GB, 512MB or a number of bytes (0 = no limit), not '${text}'`);
  }
  return parsed === 0 ? Infinity : Math.floor(parsed);
}
