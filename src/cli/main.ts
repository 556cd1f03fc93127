#!/usr/bin/env node
// The s2bench command line: wires each command module into commander and maps errors to exit codes.

import { Command, CommanderError } from 'commander';
import { ProfileError } from '../core/profile.js';
import { EXIT_USAGE, UserError } from './errors.js';
import { COMMANDS } from './commands/index.js';
import { packageVersion } from '../package-info.js';

async function main(argv: string[]): Promise<number> {
  const program = new Command('s2bench')
    .description('Replay KVM memory-management traces through a faithful model of memslots and stage-2')
    .version(packageVersion())
    .showHelpAfterError()
    .exitOverride();
  for (const register of COMMANDS) register(program);
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    return reportError(err);
  }
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and version are "errors" to commander; they already printed.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
    if (err.code === 'commander.help') return 0;
    return EXIT_USAGE;
  }
  if (err instanceof ProfileError) {
    process.stderr.write(`s2bench: ${err.message}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof UserError) {
    process.stderr.write(`s2bench: ${err.message}\n`);
    return err.exitCode;
  }
  throw err;
}

process.exitCode = await main(process.argv);
