// `--costs FILE` of run, replay and compare: the cost table estimates are priced with (default: the
// shipped table from this machine kind). Loaded at the command-line boundary, so a bad file stops the
// command before any work, with the file and field named. The option's help text is in
// commands/option-help.ts.

import { costSource, CostTableError, resolveCostTable, type LoadedCostTable } from '../../estimate/costs.js';
import { InputError } from '../../errors.js';

export async function loadCostsOption(file: string | undefined, flag = '--costs'): Promise<LoadedCostTable & { source: string }> {
  try {
    const loaded = await resolveCostTable(file);
    return { ...loaded, source: costSource(loaded) };
  } catch (err) {
    if (err instanceof CostTableError) throw new InputError(`${flag}: ${err.message}`);
    throw err;
  }
}
