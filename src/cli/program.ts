// The s2bench command line as a function: wires each command module into commander and maps errors to
// exit codes. main.ts calls it for the real process; tests and the fuzz harness call it in-process.

import { Command, CommanderError } from 'commander';
import { S2benchError } from '../errors.js';
import { COMMANDS } from './commands/index.js';
import { EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, exitCodeFor } from './exit-codes.js';
import { packageVersion } from '../package-info.js';

/** Runs one command line (`argv` as process.argv: node, script, then arguments); returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const program = new Command('s2bench')
    .description('Replay KVM memory-management traces through a faithful model of memslots and stage-2')
    .version(packageVersion())
    .showHelpAfterError()
    .exitOverride();
  for (const register of COMMANDS) await register(program, argv.slice(2));
  // Commands report their result through process.exitCode; start from nothing, so that one call in a
  // process that runs several (tests) does not inherit the previous one's code.
  process.exitCode = undefined;
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? EXIT_OK : Number(process.exitCode);
  } catch (err) {
    return reportError(err);
  }
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and version are "errors" to commander; they already printed.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_OK;
    if (err.code === 'commander.help') return EXIT_OK;
    return EXIT_USAGE;
  }
  if (err instanceof S2benchError) {
    process.stderr.write(`s2bench: ${err.message}\n`);
    return exitCodeFor(err.kind);
  }
  // Not the user's doing: say so, with the stack, and exit with a code no user error uses.
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`s2bench: internal error (a bug in s2bench, please report it):\n${detail}\n`);
  return EXIT_INTERNAL;
}
