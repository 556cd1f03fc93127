// Errors in trace input: always the file, the line (CSV) or record (.s2t), and the field.

import { UserError } from '../cli/errors.js';

export class TraceError extends UserError {
  override name = 'TraceError';
  constructor(
    readonly file: string,
    /** 1-based CSV line, or 0-based .s2t record index when `record` is set. */
    readonly line: number,
    readonly field: string,
    readonly detail: string,
    readonly record = false,
  ) {
    super(`${file}: ${record ? 'record' : 'line'} ${line}${field ? `, field ${field}` : ''}: ${detail}`);
  }
}

/** Many problems at once (`validate` reports every one, not just the first). */
export class TraceErrors extends UserError {
  override name = 'TraceErrors';
  constructor(readonly errors: TraceError[]) {
    super(errors.map((e) => e.message).join('\n'));
  }
}
