// Every command module registers its own subcommands; this list is the only place that names them.

import type { Command } from 'commander';
import { registerTraceCommands } from './trace.js';

export const COMMANDS: ReadonlyArray<(program: Command) => void> = [registerTraceCommands];
