// `s2bench calibrate`: measure what each modeled event costs on this machine's /dev/kvm, check the
// result against a recorded demand-paging run, and write the cost table that run/replay/compare
// take with --costs (docs/calibration.md).

import { writeFile } from 'node:fs/promises';
import { runCalibrator, type CalibratorOptions } from '../../calibrate/calibrator.js';
import { calibrationHost } from '../../calibrate/host.js';
import { buildCostTable } from '../../calibrate/table.js';
import { validateDemandPaging, type Validation } from '../../calibrate/validate.js';
import { COST_NAMES, costsFor, type CostTable } from '../../estimate/costs.js';
import { loadCostsOption } from './costs-option.js';
import { RecorderUnavailable } from '../../record/recorder.js';
import { InputError, UsageError } from '../../errors.js';

export interface CalibrateCliOptions {
  out: string;
  quick: boolean;
  repeats?: string;
  pages?: string;
  huge?: string;
  label?: string;
  validatePages?: string;
  check?: string;
}

/** Full runs take about a minute on a busy 2-core machine; --quick takes seconds (for tests). */
const FULL: CalibratorOptions & { validatePages: number; validateRepeats: number } = { repeats: 15, pages: 4096, huge: 32, validatePages: 2048, validateRepeats: 7 };
const QUICK: typeof FULL = { repeats: 3, pages: 256, huge: 4, validatePages: 256, validateRepeats: 3 };

function whole(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || n < min || n > max) throw new UsageError(`--${name} takes a whole number in [${min}, ${max}], not '${text}'`);
  return n;
}

/** `calibrate`: measures and writes a cost table, or with --check checks one. */
export async function calibrateAction(opts: CalibrateCliOptions): Promise<void> {
  const base = opts.quick ? QUICK : FULL;
  const options = {
    repeats: whole('repeats', opts.repeats, base.repeats, 1, 1000),
    pages: whole('pages', opts.pages, base.pages, 2, 1 << 17),
    huge: whole('huge', opts.huge, base.huge, 1, 512),
  };
  const validatePages = whole('validate-pages', opts.validatePages, base.validatePages, 1, 1 << 18);
  try {
    if (opts.check !== undefined) {
      process.stdout.write(await checkTable(opts.check, validatePages, base.validateRepeats));
      return;
    }
    const table = calibrate(options, validatePages, base.validateRepeats, opts.label);
    await writeFile(opts.out, JSON.stringify(table, null, 2) + '\n');
    process.stdout.write(describeTable(table) + `cost table: ${opts.out}\n`);
  } catch (err) {
    if (err instanceof RecorderUnavailable) throw new InputError(`calibrate: ${err.message}`);
    throw err;
  }
}

export function calibrate(options: CalibratorOptions, validatePages: number, validateRepeats: number, label?: string): CostTable {
  const out = runCalibrator(options);
  const host = calibrationHost(out.meta['kernel'] ?? 'unknown');
  const table = buildCostTable(out, {
    label: label ?? `calibrated on ${host.cpuModel}, Linux ${host.kernel}, KVM ${host.kvmModules.join('+')} (tdp_mmu=${host.tdpMmu})`,
    command: ['s2bench', ...process.argv.slice(2)].map(shellWord).join(' '),
    createdAt: new Date().toISOString(),
    host,
    repeats: options.repeats,
  });
  table['validation'] = validateDemandPaging(validatePages, validateRepeats, table.profiles['x86-tdp']!);
  return table;
}

/** `--check FILE`: the table's estimate of a fresh recorded run, and its error. */
async function checkTable(file: string, pages: number, repeats: number): Promise<string> {
  const loaded = await loadCostsOption(file, 'calibrate --check');
  const costs = costsFor(loaded.table, 'x86-tdp');
  if (costs === undefined) throw new InputError(`calibrate --check: ${file} has no costs for x86-tdp`);
  return `${loaded.source}\n` + validationLine(validateDemandPaging(pages, repeats, costs));
}

function validationLine(v: Validation | { skipped: string } | undefined): string {
  if (v === undefined) return '';
  if ('skipped' in v) return `check: skipped: ${v.skipped}\n`;
  return (
    `check: ${v.trace}: measured ${v.measuredMs.median.toFixed(2)} ms (median of ${v.repeats}, range ${v.measuredMs.min.toFixed(2)} .. ${v.measuredMs.max.toFixed(2)}), ` +
    `estimated ${v.estimatedMs.toFixed(2)} ms: error ${v.errorPct >= 0 ? '+' : ''}${v.errorPct.toFixed(1)}% ` +
    `(${v.withinTolerance ? 'within' : 'OUTSIDE'} the stated ±${v.tolerancePct}%)${v.divergences > 0 ? ` (${v.divergences} model divergences!)` : ''}\n`
  );
}

/** An argument as a shell would need it typed again: quoted when it holds anything but plain characters. */
function shellWord(arg: string): string {
  return /^[A-Za-z0-9_./=:,+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function ns(x: number | undefined): string {
  if (x === undefined) return '-';
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)} ms` : x >= 1e3 ? `${(x / 1e3).toFixed(2)} us` : `${x.toFixed(1)} ns`;
}

/** The table as the terminal shows it: each cost's median and spread, the skipped ones, the check. */
export function describeTable(table: CostTable): string {
  const costs = table.profiles['x86-tdp'] ?? {};
  const lines = [`${table.label}`, '(medians over repeats on a shared machine: the spread is the interquartile range and the extremes)'];
  for (const name of COST_NAMES) {
    const c = costs[name];
    if (c !== undefined) lines.push(`  ${name.padEnd(16)} ${ns(c.ns).padStart(11)} per ${c.per ?? '?'}   IQR ${ns(c.q1)} .. ${ns(c.q3)}, range ${ns(c.min)} .. ${ns(c.max)}, n=${c.n ?? '?'}`);
  }
  for (const [name, why] of Object.entries(table.skipped ?? {})) lines.push(`  ${name.padEnd(16)} skipped: ${why}`);
  return lines.join('\n') + '\n' + validationLine(table['validation'] as Validation | { skipped: string } | undefined);
}
