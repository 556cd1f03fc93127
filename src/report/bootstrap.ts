// Percentile-bootstrap confidence interval for the ratio of medians of two timing samples. Seeded, so
// the same two runs always give the same interval (a report must not change when re-rendered).

import { median } from './stats.js';

/** mulberry32: a small, fast, well-distributed 32-bit generator; enough for resampling. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function resample(values: readonly number[], random: () => number, out: number[]): number[] {
  for (let i = 0; i < values.length; i++) out[i] = values[Math.floor(random() * values.length)]!;
  return out;
}

/** [low, high] of median(y)/median(x) at the given confidence level (0.95 = 95%). */
export function ratioOfMediansCi(
  x: readonly number[],
  y: readonly number[],
  confidence = 0.95,
  resamples = 2000,
  seed = 0x5eed,
): [number, number] {
  if (x.length === 0 || y.length === 0) return [NaN, NaN];
  const random = mulberry32(seed);
  const ratios: number[] = [];
  const bx = new Array<number>(x.length);
  const by = new Array<number>(y.length);
  for (let i = 0; i < resamples; i++) {
    const mx = median(resample(x, random, bx));
    const my = median(resample(y, random, by));
    if (mx !== 0) ratios.push(my / mx);
  }
  if (ratios.length === 0) return [NaN, NaN];
  ratios.sort((a, b) => a - b);
  const tail = (1 - confidence) / 2;
  const at = (q: number): number => ratios[Math.min(ratios.length - 1, Math.max(0, Math.floor(q * ratios.length)))]!;
  return [at(tail), at(1 - tail)];
}
