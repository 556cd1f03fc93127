// The ground floor: every error a user can cause, as one of a few kinds that every layer shares.
// Layers throw these; only the command line (src/cli/exit-codes.ts) turns a kind into an exit code,
// so a new error needs no new mapping. Anything else that escapes is a bug (an internal error).

/** What went wrong, from the user's side. */
export type ErrorKind =
  /** A file the user gave (trace, capture, cost table, ...) is wrong: names file, line or record, field. */
  | 'input'
  /** The command line is wrong: unknown option, missing argument, contradictory flags. */
  | 'usage'
  /** A profile string names an unknown architecture, version, knob or value. */
  | 'profile'
  /** A results directory given to report/compare/merge is missing, torn or not s2bench's. */
  | 'run-dir'
  /** The machine cannot do what was asked (no /dev/kvm, no compiler): nothing was wrong with the input. */
  | 'unavailable';

export abstract class S2benchError extends Error {
  abstract readonly kind: ErrorKind;

  constructor(message?: string) {
    // A user's error is reported by its message alone, never its stack; capturing one costs more than
    // the rest of a bad row's handling (`validate` of a file of millions of bad lines), so none is.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

/** Where in a file a problem is: the line (text) or record (binary), and the field, when known. */
export interface InputLocation {
  readonly file: string;
  /** 1-based line of a text file, or 0-based record index of a binary one when `record` is set. */
  readonly line?: number;
  readonly record?: boolean;
  readonly field?: string;
}

/** `FILE: line N, field F` (or `record N`): where a problem is, as every input error starts. */
export function locate(where: InputLocation): string {
  let text = where.file;
  if (where.line !== undefined) text += `: ${where.record ? 'record' : 'line'} ${where.line}`;
  if (where.field) text += `${where.line !== undefined ? ',' : ':'} field ${where.field}`;
  return text;
}

/** Bad user input. The message starts with the file, then line/record and field where known. */
export class InputError extends S2benchError {
  override name = 'InputError';
  readonly kind = 'input' as const;
  constructor(
    message: string,
    readonly where?: InputLocation,
  ) {
    super(where === undefined ? message : `${locate(where)}: ${message}`);
  }
}

/** A problem in a trace, always with file, line (CSV) or record (.s2t) and field. */
export class TraceError extends InputError {
  override name = 'TraceError';
  constructor(
    readonly file: string,
    /** 1-based CSV line, or 0-based .s2t record index when `record` is set. */
    readonly line: number,
    readonly field: string,
    readonly detail: string,
    readonly record = false,
  ) {
    super(detail, { file, line, record, field: field || undefined });
  }
}

/** Many problems at once (`validate` reports every one, not just the first). */
export class TraceErrors extends InputError {
  override name = 'TraceErrors';
  constructor(readonly errors: TraceError[]) {
    super(errors.map((e) => e.message).join('\n'));
  }
}

export class UsageError extends S2benchError {
  override name = 'UsageError';
  readonly kind = 'usage' as const;
}

export class ProfileError extends S2benchError {
  override name = 'ProfileError';
  readonly kind = 'profile' as const;
}

export class RunDirError extends S2benchError {
  override name = 'RunDirError';
  readonly kind = 'run-dir' as const;
}

export class UnavailableError extends S2benchError {
  override name = 'UnavailableError';
  readonly kind = 'unavailable' as const;
}
