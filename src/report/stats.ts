// Small descriptive statistics over timing samples (repeats). simple-statistics does the arithmetic.

import { median as ssMedian, quantile } from 'simple-statistics';

export interface Spread {
  n: number;
  median: number;
  min: number;
  max: number;
  q1: number;
  q3: number;
}

export function median(values: readonly number[]): number {
  return values.length === 0 ? NaN : ssMedian([...values]);
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { n: 0, median: NaN, min: NaN, max: NaN, q1: NaN, q3: NaN };
  const v = [...values];
  return {
    n: v.length,
    median: ssMedian(v),
    min: Math.min(...v),
    max: Math.max(...v),
    q1: quantile(v, 0.25),
    q3: quantile(v, 0.75),
  };
}

/** Largest distance of min or max from the median, as a fraction of the median (benchstat's "±"). */
export function relativeSpread(s: Spread): number {
  if (!(s.median !== 0 && Number.isFinite(s.median))) return NaN;
  return Math.max(s.median - s.min, s.max - s.median) / Math.abs(s.median);
}
