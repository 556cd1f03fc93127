// File names inside a run directory (reports/<run-id>/).

export const RUN_FILES = {
  info: 'run.json',
  results: 'results.csv',
  summary: 'summary.csv',
  report: 'report.html',
  compareCsv: 'compare.csv',
  compareHtml: 'compare.html',
} as const;
