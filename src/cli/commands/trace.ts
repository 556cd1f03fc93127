import type { Command } from 'commander';

/** `validate`, `convert`, `info`: owned by the trace-format work. */
export function registerTraceCommands(program: Command): void {
  void program;
}
