// Help text of the options several commands share, apart from the code that reads them
// (actions/costs-option.ts, actions/memory-option.ts): registering a command must not load that code.

export const COSTS_OPTION_HELP = 'cost table for the estimate.* metrics (from s2bench calibrate; default: the shipped table from this machine kind)';

export const MAX_MEMORY_HELP =
  "most memory the model may hold per job, e.g. 2GB or 512MB (0 = no limit; default: half this machine's memory shared by the jobs that run at once, at most 4GB)";
