// What `compare` judges a change by, apart from the comparison itself (compare.ts): the command line
// shows the defaults in `compare --help` without loading the statistics.

import type { CompareCosts } from '../estimate/compare.js';

export interface CompareOptions {
  /** Smallest relative change of a median that counts (0.05 = 5%). */
  threshold: number;
  /** Significance level of the rank test. */
  alpha: number;
  /** A cost table to price both sides' counts with: the comparison then lists estimate deltas. */
  costs?: CompareCosts;
}

export const DEFAULT_COMPARE_OPTIONS: CompareOptions = { threshold: 0.05, alpha: 0.05 };
