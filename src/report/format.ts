// Number formatting shared by the terminal table and the HTML pages.

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '-';
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${BYTE_UNITS[i]}`;
}

/** Three significant digits with an SI suffix: 1234567 -> "1.23M". */
export function formatSi(value: number): string {
  if (!Number.isFinite(value)) return '-';
  const abs = Math.abs(value);
  const steps: Array<[number, string]> = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [scale, suffix] of steps) if (abs >= scale) return `${(value / scale).toPrecision(3)}${suffix}`;
  if (Number.isInteger(value)) return String(value);
  return value.toPrecision(3);
}

/** A count exactly, with thin grouping so 12345678 reads as 12,345,678. */
export function formatCount(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  return Number.isInteger(value) ? value.toLocaleString('en-US') : String(value);
}

export function formatMetric(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined) return '-';
  if (unit === 'bytes') return formatBytes(value);
  if (unit === 'count') return formatCount(value);
  return `${formatSi(value)} ${unit}`;
}

export function formatPct(fraction: number): string {
  if (!Number.isFinite(fraction)) return '-';
  const pct = fraction * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(pct !== 0 && Math.abs(pct) < 1 ? 2 : 1)}%`;
}

export function formatP(p: number): string {
  if (!Number.isFinite(p)) return '-';
  return p < 0.001 ? 'p<0.001' : `p=${p.toFixed(3)}`;
}

/** 12 hex digits of a commit, keeping run.json's `-dirty` mark. */
export function shortCommit(commit: string): string {
  return commit.slice(0, 12) + (commit.endsWith('-dirty') ? '-dirty' : '');
}
