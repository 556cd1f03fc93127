// The chart library, inlined into every page so that reports work offline and from a CI artifact.
// uPlot (~51 KB minified + 2 KB CSS) rather than Chart.js (~200 KB): it draws bar and scatter charts on
// canvas, has no dependencies, and keeps a report with dozens of charts small and fast to open.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface ChartAssets {
  js: string;
  css: string;
}

let cached: ChartAssets | undefined;

export function chartAssets(): ChartAssets {
  if (!cached) {
    const require = createRequire(import.meta.url);
    cached = {
      js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
      css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    };
  }
  return cached;
}
