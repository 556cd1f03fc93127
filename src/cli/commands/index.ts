// Every command module registers its own subcommands; this list is the only place that names them.

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

export const COMMANDS: ReadonlyArray<(program: Command) => void> = [
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
