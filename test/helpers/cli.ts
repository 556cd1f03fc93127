// Runs the real `s2bench` command line in a child process, as a user or CI would: argument parsing,
// error-to-exit-code mapping and output all go through src/cli/main.ts. Every test that drives the CLI
// uses this one runner.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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
