// Public API: re-exports only.
export * from './core/abi.js';
export * from './core/metrics.js';
export * from './core/outcome.js';
export * from './core/profile.js';
export * from './trace/schema.js';
export { Vm } from './core/vm.js';
export { TraceBuilder } from './trace/builder.js';
export { InputError, ProfileError, RunDirError, S2benchError, TraceError, TraceErrors, UnavailableError, UsageError, type ErrorKind } from './errors.js';
export { rowAt, type TraceRow } from './trace/row.js';
export { openTrace, readTrace, writeTrace, parseTraceText, formatTraceText, type LoadedTrace, type OpenTrace } from './trace/io.js';
export { replayTrace, replayChunk, newReplayState, divergenceCount, behaviourChangeCount, MAX_KEPT_DIVERGENCES, type Divergence, type ReplayResult } from './replay/engine.js';
export { replaySharded, newShardPool, type ShardedResult } from './replay/sharded.js';
export { runSuite, type SuiteOptions, type SuiteRun } from './replay/run-suite.js';
export { GENERATORS, findGenerator, type Generator } from './trace/generators/index.js';
export { compareRuns, comparisonFails } from './report/compare.js';
export { readRunDir, type LoadedRun } from './report/run-dir.js';
export { writeRun } from './report/write.js';
export type { JobResult, RunInfo, PoolInfo, ResultRow } from './report/types.js';
