// `--costs FILE` of run, replay and compare: the cost table estimates are priced with (default: the
// shipped table from this machine kind). Loaded at the command-line boundary, so a bad file stops the
// command before any work, with the file and field named.

import { costSource, CostTableError, resolveCostTable, type LoadedCostTable } from '../../estimate/costs.js';
import { InputError } from '../../errors.js';

export const COSTS_OPTION_HELP = 'cost table for the estimate.* metrics (from s2bench calibrate; default: the shipped table from this machine kind)';

export async function loadCostsOption(file: string | undefined, flag = '--costs'): Promise<LoadedCostTable & { source: string }> {
  try {
    const loaded = await resolveCostTable(file);
    return { ...loaded, source: costSource(loaded) };
  } catch (err) {
    if (err instanceof CostTableError) throw new InputError(`${flag}: ${err.message}`);
    throw err;
  }
}
