// Counters over the course of a replay: a few hundred samples of a handful of metrics, taken every N
// events, plus the model's answer to every `dirty_get` (pages per migration pass). The engine counts
// down one number per row and calls take() when it reaches zero, so the hot loop pays one decrement.

import { M, METRIC_NAMES } from '../core/metrics.js';
import type { Vm } from '../core/vm.js';
import type { JobSeries } from '../report/series.js';

/** The metrics sampled: what the report's per-trace charts plot (docs/metrics.md). */
export const SERIES_METRICS = [
  'faults',
  'mapped.4k',
  'mapped.2m',
  'mapped.1g',
  'iotlb.pinned',
  'iotlb.leaked',
  'hypshare.host_shared',
  'hypshare.shared',
  'hypshare.desynced',
  'hypshare.desync_ops',
] as const satisfies ReadonlyArray<(typeof METRIC_NAMES)[number]>;

/** About this many samples per trace, whatever its length. */
export const SERIES_POINTS = 300;

const IDS = SERIES_METRICS.map((name) => METRIC_NAMES.indexOf(name));

/** Events between samples for a trace of `rows` rows: about SERIES_POINTS samples, at least 1 row apart. */
export function sampleInterval(rows: number): number {
  return Math.max(1, Math.ceil(rows / SERIES_POINTS));
}

export class SeriesSampler {
  /** Rows left until the next sample; the engine decrements it once per row. */
  countdown: number;
  private readonly series: JobSeries;

  constructor(readonly every: number) {
    this.countdown = every;
    this.series = { events: [], values: Object.fromEntries(SERIES_METRICS.map((name) => [name, []])), dirtyPasses: [] };
  }

  /** Records the counters now; returns the countdown to the next sample. */
  take(vm: Vm): number {
    const events = vm.counters[M.events]!;
    if (this.series.events[this.series.events.length - 1] === events) return this.every;
    this.series.events.push(events);
    SERIES_METRICS.forEach((name, k) => this.series.values[name]!.push(vm.metric(IDS[k]!)));
    return this.every;
  }

  dirtyPass(event: number, pages: number): void {
    if (pages >= 0) this.series.dirtyPasses.push([event, pages]);
  }

  /** The series with a last sample at the end of the trace. */
  finish(vm: Vm): JobSeries {
    this.take(vm);
    return this.series;
  }
}
