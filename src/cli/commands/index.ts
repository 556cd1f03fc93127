// Every command module registers its own subcommands; this list is the only place that names them.
//
// Start-up pays for every module loaded before a command runs, `--version` and `--help` included, so
// the work is kept out of registration. Each command is two modules:
// - commands/NAME.ts registers it: name, arguments, options, help text. It imports commander, node
//   built-ins and the few leaf modules that hold a default shown in the help (e.g.
//   trace/max-events.ts), and from its action module types only (`import type`).
// - actions/NAME.ts does the work; the registered action imports it with `await import()` when the
//   command runs, so a command loads its own implementation and no other's.
// gen alone registers late: its subcommands are the generators, so they are declared only when the
// command line is for gen (commands/gen.ts). test/cli-startup.test.ts fails if `--help` or
// `--version` loads anything else.

import type { Command } from 'commander';
import { registerBenchCommand } from './bench.js';
import { registerCalibrateCommand } from './calibrate.js';
import { registerGenCommand } from './gen.js';
import { registerImportCommands } from './import.js';
import { registerMergeCommand } from './merge.js';
import { registerProfilesCommand } from './profiles.js';
import { registerReportCommands } from './report.js';
import { registerRecordCommand } from './record.js';
import { registerRecordVmCommand, registerVmSummaryCommand } from './record-vm.js';
import { registerReplayCommand } from './replay.js';
import { registerRunCommand } from './run.js';
import { registerTraceCommands } from './trace.js';

/** Registers a command on `program`; `words` are the command line's arguments (after the script). */
export type RegisterCommand = (program: Command, words: readonly string[]) => void | Promise<void>;

export const COMMANDS: readonly RegisterCommand[] = [
  registerTraceCommands,
  registerRunCommand,
  registerBenchCommand,
  registerMergeCommand,
  registerReportCommands,
  registerRecordCommand,
  registerRecordVmCommand,
  registerVmSummaryCommand,
  registerReplayCommand,
  registerImportCommands,
  registerGenCommand,
  registerCalibrateCommand,
  registerProfilesCommand,
];
