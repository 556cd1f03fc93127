// `s2bench replay TRACE`: one trace through the model on this thread; prints the modeled counters
// (a table, or JSON). With --check, every divergence from a recorded `ret` or an `expect` row is
// listed and the exit code is 1 if there is any.

import type { Command } from 'commander';
import { metricUnit } from '../../core/metrics.js';
import { parseProfile } from '../../core/profile.js';
import { replayFile, type ReplayResult } from '../../replay/engine.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';

interface ReplayCliOptions {
  profile?: string;
  check: boolean;
  json: boolean;
}

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description("replay one trace through the model and print its modeled counters")
    .argument('<trace>', 'trace file (.csv or .s2t)')
    .option('-p, --profile <profile>', "profile, e.g. arm64-s2 or x86-tdp,eager-split=off (default: the trace's own, else x86-tdp)")
    .option('--check', 'list every divergence from recorded results and expect rows; exit 1 if any', false)
    .option('--json', 'print the result as JSON', false)
    .action(async (trace: string, opts: ReplayCliOptions) => {
      process.exitCode = await replayCommand(trace, opts, (text) => process.stdout.write(text));
    });
}

export async function replayCommand(
  path: string,
  opts: ReplayCliOptions,
  write: (text: string) => void,
): Promise<number> {
  const profile = opts.profile === undefined ? undefined : parseProfile(opts.profile);
  // Streamed: a trace of any length replays in the model's memory plus one chunk.
  const result = await replayFile(path, profile);
  write(opts.json ? `${JSON.stringify(toJson(path, result), null, 2)}\n` : formatResult(path, result, opts.check));
  return opts.check && result.divergences.length > 0 ? EXIT_FAILURE : EXIT_OK;
}

function toJson(path: string, result: ReplayResult): object {
  return {
    trace: path,
    profile: result.profile,
    counters: result.counters,
    divergences: result.divergences,
  };
}

export function formatResult(path: string, result: ReplayResult, check: boolean): string {
  const lines = [`trace    ${path}`, `profile  ${result.profile}`, ''];
  const names = Object.keys(result.counters);
  const width = Math.max(...names.map((name) => name.length));
  for (const name of names) {
    const value = result.counters[name]!;
    lines.push(`${name.padEnd(width)}  ${String(value).padStart(14)}${metricUnit(name) === 'bytes' ? ' bytes' : ''}`);
  }
  if (check) {
    lines.push('');
    if (result.divergences.length === 0) {
      lines.push('check: 0 divergences');
    } else {
      lines.push(`check: ${result.divergences.length} divergence(s)`);
      for (const d of result.divergences) {
        lines.push(`  line ${d.line}: ${d.op}: expected ${d.expected}, got ${d.got}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
