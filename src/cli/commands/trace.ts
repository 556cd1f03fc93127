// `validate`, `convert`, `info` as the command line knows them: options and help. What they do is in
// ../actions/trace.ts, imported when a command runs (the rule is in index.ts).

import type { Command } from 'commander';

export function registerTraceCommands(program: Command): void {
  program
    .command('validate')
    .description('check traces: every problem with its file, line and field; exit 1 if any')
    .argument('<files...>', 'trace files (.csv or .s2t)')
    .option('--json', 'print the problems as JSON', false)
    .action(async (files: string[], opts: { json: boolean }) => {
      const { validateCommand } = await import('../actions/trace.js');
      process.exitCode = await validateCommand(files, opts.json, (text) => process.stdout.write(text));
    });

  program
    .command('convert')
    .description('convert a trace between CSV and binary .s2t (by extension), losslessly')
    .argument('<in>', 'input trace')
    .argument('<out>', 'output trace (.csv or .s2t)')
    .option('--compress', 'deflate each .s2t chunk (smaller; slower to write and read)', false)
    .action(async (input: string, output: string, opts: { compress: boolean }) =>
      (await import('../actions/trace.js')).convertTrace(input, output, { compress: opts.compress }),
    );

  program
    .command('info')
    .description('metadata, events by op and the guest-physical span of a trace')
    .argument('<file>', 'trace file')
    .option('--json', 'print as JSON', false)
    .action(async (file: string, opts: { json: boolean }) => (await import('../actions/trace.js')).infoAction(file, opts));
}
