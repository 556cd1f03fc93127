// `--max-events N` of run and replay: the most events a trace loaded whole may have
// (src/trace/max-events.ts). Its own module so that run's action does not load replay's.

import { UsageError } from '../../errors.js';
import { DEFAULT_MAX_EVENTS } from '../../trace/max-events.js';

export function maxEventsOption(text: string | undefined): number {
  if (text === undefined) return DEFAULT_MAX_EVENTS;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--max-events takes a whole number >= 1, not '${text}'`);
  return n;
}
