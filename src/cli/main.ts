#!/usr/bin/env node
// The s2bench command line (src/cli/program.ts holds the wiring and the exit codes).

import { runCli } from './program.js';

process.exitCode = await runCli(process.argv);
