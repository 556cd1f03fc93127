// `s2bench gen` as the command line knows it. Its subcommands are the generators, each with options
// of its own (src/trace/generators/): declared by ../actions/gen.ts, loaded only when the command line
// is for gen (`gen ...` or `help gen`), since declaring them needs the generators themselves.

import type { Command } from 'commander';

export async function registerGenCommand(program: Command, words: readonly string[]): Promise<void> {
  const gen = program.command('gen').description('generate a synthetic trace (each generator models a KVM selftest)');
  if (commandOf(words) === 'gen') (await import('../actions/gen.js')).registerGenerators(gen);
}

/**
 * The command `words` (the arguments after the script) are for, as commander reads them: the first
 * word that is not an option (the program's own options, --help and --version, take no value), or the
 * one after `help`.
 */
function commandOf(words: readonly string[]): string | undefined {
  const operands = words.filter((word) => !word.startsWith('-'));
  return operands[0] === 'help' ? operands[1] : operands[0];
}
