// `s2bench replay TRACE`: one trace through the model on this thread; prints the modeled counters
// (a table, or JSON). With --check, every divergence from a recorded `ret` or an `expect` row is
// listed and the exit code is 1 if there is any.

import type { Command } from 'commander';
import { metricUnit } from '../../core/metrics.js';
import { parseProfile } from '../../core/profile.js';
import { replayTrace, type ReplayResult } from '../../replay/engine.js';
import { DEFAULT_MAX_EVENTS, readTrace } from '../../trace/io.js';
import { UsageError } from '../../errors.js';
import { withEstimateMetrics } from '../../estimate/apply.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import { COSTS_OPTION_HELP, loadCostsOption } from './costs-option.js';

interface ReplayCliOptions {
  profile?: string;
  check: boolean;
  json: boolean;
  maxEvents?: string;
  costs?: string;
}

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description("replay one trace through the model and print its modeled counters")
    .argument('<trace>', 'trace file (.csv or .s2t)')
    .option('-p, --profile <profile>', "profile, e.g. arm64-s2,split-chunk=2m or x86-tdp,eager-split=off (default: the trace's own, else x86-tdp)")
    .option('--check', 'list every divergence from recorded results and expect rows; exit 1 if any', false)
    .option('--json', 'print the result as JSON', false)
    .option('--max-events <n>', 'refuse a trace with more events than this (replay holds it in memory)', String(DEFAULT_MAX_EVENTS))
    .option('--costs <file>', COSTS_OPTION_HELP)
    .action(async (trace: string, opts: ReplayCliOptions) => {
      process.exitCode = await replayCommand(trace, opts, (text) => process.stdout.write(text));
    });
}

export async function replayCommand(
  path: string,
  opts: ReplayCliOptions,
  write: (text: string) => void,
): Promise<number> {
  const costs = await loadCostsOption(opts.costs);
  const trace = await readTrace(path, undefined, { maxEvents: maxEventsOption(opts.maxEvents) });
  const replayed = replayTrace(trace, opts.profile === undefined ? undefined : parseProfile(opts.profile), { check: opts.check });
  // Priced after the replay, from its counts (src/estimate/); absent when the table has no costs for the profile.
  const result = { ...replayed, counters: withEstimateMetrics(replayed.counters, costs.table, replayed.profile) };
  const priced = Object.keys(result.counters).some((name) => name.startsWith('estimate.'));
  const source = priced ? `estimate.* are estimates priced with ${costs.source}` : `no estimates: ${costs.source} has no costs for ${result.profile}`;
  write(opts.json ? `${JSON.stringify({ ...toJson(path, result), costs: source }, null, 2)}\n` : formatResult(path, result, opts.check) + `${source}\n`);
  return opts.check && result.divergences.length > 0 ? EXIT_FAILURE : EXIT_OK;
}

/** The first divergences are the ones to read; a trace that diverges everywhere would print millions. */
export const MAX_LISTED_DIVERGENCES = 100;

export function maxEventsOption(text: string | undefined): number {
  if (text === undefined) return DEFAULT_MAX_EVENTS;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--max-events takes a whole number >= 1, not '${text}'`);
  return n;
}

function toJson(path: string, result: ReplayResult): object {
  return {
    trace: path,
    profile: result.profile,
    counters: result.counters,
    divergences: result.divergences.slice(0, MAX_LISTED_DIVERGENCES),
    divergencesTotal: result.divergences.length,
  };
}

export function formatResult(path: string, result: ReplayResult, check: boolean): string {
  const lines = [`trace    ${path}`, `profile  ${result.profile}`, ''];
  const names = Object.keys(result.counters);
  const width = Math.max(...names.map((name) => name.length));
  for (const name of names) {
    const value = result.counters[name]!;
    const unit = name.startsWith('estimate.') ? (name.endsWith('_ms') ? ' ms (estimate)' : ' (estimate)') : metricUnit(name) === 'bytes' ? ' bytes' : '';
    lines.push(`${name.padEnd(width)}  ${String(name.endsWith('_ms') ? +value.toFixed(6) : value).padStart(14)}${unit}`);
  }
  if (check) {
    lines.push('');
    if (result.divergences.length === 0) {
      lines.push('check: 0 divergences');
    } else {
      lines.push(`check: ${result.divergences.length} divergence(s)`);
      for (const d of result.divergences.slice(0, MAX_LISTED_DIVERGENCES)) {
        lines.push(`  line ${d.line}: ${d.op}: expected ${d.expected}, got ${d.got}`);
      }
      const rest = result.divergences.length - MAX_LISTED_DIVERGENCES;
      if (rest > 0) lines.push(`  ... and ${rest} more`);
    }
  }
  return `${lines.join('\n')}\n`;
}
