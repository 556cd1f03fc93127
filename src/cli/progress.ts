// A progress bar for `gen` and `import` (cli-progress, as `run` uses): on stderr when it is a terminal,
// and only once the work has taken longer than a moment, so quick commands and pipes print nothing.

import cliProgress from 'cli-progress';

export interface LateProgressOptions {
  /** What is in progress, e.g. `gen dirty-log` or `import strace boot.strace`. */
  label: string;
  /** Where the bar goes (stderr by default); nothing is drawn unless it is a TTY. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** How long the work runs before a bar appears, in ms. */
  delayMs?: number;
  /** The clock (tests pass their own). */
  now?: () => number;
}

/** Work under this long ends before anyone wonders whether it hangs. */
export const PROGRESS_DELAY_MS = 2000;

export class LateProgress {
  private bar: cliProgress.SingleBar | undefined;
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly now: () => number;
  private readonly start: number;

  /** `total` undefined: the amount of work is not known ahead (a streamed generator): rows so far. */
  constructor(
    private readonly total: number | undefined,
    private readonly options: LateProgressOptions,
  ) {
    this.stream = options.stream ?? process.stderr;
    this.now = options.now ?? (() => performance.now());
    this.start = this.now();
  }

  /** `value` of `total` done. Cheap enough to call every few thousand items. */
  update(value: number): void {
    if (this.bar !== undefined) {
      this.bar.update(value);
      return;
    }
    if (this.stream.isTTY !== true || this.now() - this.start < (this.options.delayMs ?? PROGRESS_DELAY_MS)) return;
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.stream,
        format:
          this.total === undefined
            ? `${this.options.label} {value} rows | {duration_formatted}`
            : `${this.options.label} [{bar}] {percentage}% | {duration_formatted}`,
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(this.total ?? 0, value);
  }

  /** Clears the bar, if one was drawn. */
  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
