// Runs the real `s2bench` command line, as a user or CI would: argument parsing, error-to-exit-code
// mapping and output all go through the CLI's own entry. Every test that drives the CLI uses this one
// module: `runCli` in a child process (what a user runs), `runCliInProcess` in this process with its
// output captured (fast enough for hundreds of fuzz cases).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCli as runProgram } from '../../src/cli/program.js';

// The CLI beside this module: dist/src/cli/main.js when compiled, src/cli/main.ts under tsx (whose
// loader flags are in process.execArgv, so the child runs the same way).
const CLI_JS = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
export const CLI_PATH = existsSync(CLI_JS) ? CLI_JS : CLI_JS.replace(/\.js$/, '.ts');

export interface CliResult {
  /** The exit status (a signal counts as -1). */
  code: number;
  stdout: string;
  stderr: string;
}

/** `s2bench ARGS...`; resolves when the process exits, whatever its status. */
export function runCli(args: readonly string[], options: { cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, CLI_PATH, ...args], {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** `s2bench ARGS...` that must exit 0 (the assertion shows its stderr otherwise). */
export async function runCliOk(args: readonly string[], options: { cwd?: string } = {}): Promise<CliResult> {
  const result = await runCli(args, options);
  assert.equal(result.code, 0, `s2bench ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result;
}

/** `s2bench ARGS...` in this process, stdout and stderr captured; the exit code is returned, not set. */
export async function runCliInProcess(args: readonly string[]): Promise<CliResult> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  let stdout = '';
  let stderr = '';
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await runProgram(['node', 's2bench', ...args]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    // The command's exit code must not become the test process's own.
    process.exitCode = undefined;
  }
}
