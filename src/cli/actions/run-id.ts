/** A run directory's name: its start time in UTC, sortable and free of characters paths dislike. */
export function newRunId(now: Date): string {
  return now.toISOString().replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z');
}
