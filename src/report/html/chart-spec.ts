// What the page's script draws: a list of chart specifications embedded as JSON. The server side
// decides the data; the client only lays it out with uPlot.

/** How axis values and labels print: bytes (KiB/MiB/GiB), a plain count, or an SI-scaled unit. */
export type ChartUnit = string;

export interface BarChart {
  kind: 'bars';
  id: string;
  labels: string[];
  values: number[];
  unit: ChartUnit;
  /** One colour for all bars, or one per bar. */
  colors: string | string[];
  /** Logarithmic value axis, for skewed distributions (p50 next to max). */
  log?: boolean;
}

export interface RepeatsChart {
  kind: 'repeats';
  id: string;
  /** Sample per repeat (null for a failed repeat). */
  values: Array<number | null>;
  median: number;
  unit: ChartUnit;
  color: string;
  /** Baseline samples for an embedded comparison, drawn beside the new ones. */
  baseline?: number[];
}

/** Relative change per comparison (percent), with its confidence interval as whiskers. */
export interface ChangeChart {
  kind: 'change';
  id: string;
  labels: string[];
  pct: number[];
  low: number[];
  high: number[];
  colors: string[];
}

/** Counters against events replayed: one line per metric, or points (null where there is none). */
export interface LineChart {
  kind: 'lines';
  id: string;
  /** Events replayed at each sample, ascending. */
  x: number[];
  lines: Array<{ label: string; values: Array<number | null>; color: string; points?: boolean }>;
  unit: ChartUnit;
}

export type ChartSpec = BarChart | RepeatsChart | ChangeChart | LineChart;

export const COLORS = {
  ok: '#2f7d32',
  fault: '#1f6feb',
  exit: '#d97706',
  bad: '#c62828',
  neutral: '#6b7280',
  level4k: '#7c3aed',
  level2m: '#0891b2',
  level1g: '#059669',
  rate: '#1f6feb',
  baseline: '#9ca3af',
} as const;
