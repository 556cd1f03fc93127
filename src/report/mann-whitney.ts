// Two-sided Mann-Whitney U test (Wilcoxon rank-sum) for comparing timing repeats, as benchstat does.
// No well-kept npm library computes its p-value (simple-statistics stops at the rank sum), so this is a
// small implementation checked against scipy.stats.mannwhitneyu's values in the tests. Like scipy's
// 'auto' method: the exact distribution when there are no ties and one sample has at most 8 values,
// otherwise the normal approximation with tie and continuity corrections.

import { errorFunction } from 'simple-statistics';

export interface MannWhitneyResult {
  /** U statistic of the first sample (scipy's `statistic`). */
  u: number;
  /** Two-sided p-value. */
  p: number;
  method: 'exact' | 'asymptotic';
}

const EXACT_MAX_SMALLER = 8;

/** Average ranks (1-based) of the pooled samples, plus the tie-group sizes for the variance correction. */
function rank(pooled: readonly number[]): { ranks: number[]; ties: number[] } {
  const order = pooled.map((_, i) => i).sort((a, b) => pooled[a]! - pooled[b]!);
  const ranks = new Array<number>(pooled.length);
  const ties: number[] = [];
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && pooled[order[j + 1]!] === pooled[order[i]!]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = avg;
    if (j > i) ties.push(j - i + 1);
    i = j + 1;
  }
  return { ranks, ties };
}

/**
 * Number of arrangements giving each U value, for samples of n1 and n2 without ties:
 * counts[u] over all C(n1+n2, n1) orderings (the classic recurrence f(n1,n2,u) = f(n1-1,n2,u-n2) + f(n1,n2-1,u)).
 */
function exactUCounts(n1: number, n2: number): Float64Array {
  // table[j][u] for the current i: counts for samples of (i, j).
  const max = n1 * n2;
  let prev: Float64Array[] = [];
  for (let j = 0; j <= n2; j++) {
    const row = new Float64Array(max + 1);
    row[0] = 1; // i = 0: U is always 0.
    prev.push(row);
  }
  for (let i = 1; i <= n1; i++) {
    const cur: Float64Array[] = [];
    for (let j = 0; j <= n2; j++) {
      const row = new Float64Array(max + 1);
      for (let u = 0; u <= i * j; u++) {
        // The largest pooled value belongs to sample 1 (it beats all j of sample 2) or to sample 2.
        row[u] = (u >= j ? prev[j]![u - j]! : 0) + (j > 0 ? cur[j - 1]![u]! : 0);
      }
      cur.push(row);
    }
    prev = cur;
  }
  return prev[n2]!;
}

function normalSf(z: number): number {
  return 0.5 * (1 - errorFunction(z / Math.SQRT2));
}

export function mannWhitneyU(x: readonly number[], y: readonly number[]): MannWhitneyResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('mannWhitneyU: both samples need at least one value');
  const { ranks, ties } = rank([...x, ...y]);
  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += ranks[i]!;
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;

  if (ties.length === 0 && Math.min(n1, n2) <= EXACT_MAX_SMALLER) {
    const counts = exactUCounts(n1, n2);
    let total = 0;
    for (const c of counts) total += c;
    // P(U >= max(u1, u2)) by symmetry of the null distribution.
    const hi = Math.max(u1, u2);
    let tail = 0;
    for (let u = hi; u < counts.length; u++) tail += counts[u]!;
    return { u: u1, p: Math.min(1, (2 * tail) / total), method: 'exact' };
  }

  const n = n1 + n2;
  const tieTerm = ties.reduce((s, t) => s + (t * t * t - t), 0) / (n * (n - 1));
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm));
  if (sigma === 0) return { u: u1, p: 1, method: 'asymptotic' };
  const z = (Math.max(u1, u2) - (n1 * n2) / 2 - 0.5) / sigma;
  return { u: u1, p: Math.min(1, 2 * normalSf(z)), method: 'asymptotic' };
}

/** The smallest two-sided p-value any outcome can reach with these sample sizes (without ties). */
export function minimumP(n1: number, n2: number): number {
  if (n1 === 0 || n2 === 0) return 1;
  // Complete separation: 1 arrangement of C(n1+n2, n1) at each end.
  let c = 1;
  for (let i = 1; i <= n1; i++) c = (c * (n2 + i)) / i;
  return Math.min(1, 2 / c);
}
