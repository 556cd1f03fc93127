// Public API: re-exports only.
export * from './core/abi.js';
export * from './core/metrics.js';
export * from './core/outcome.js';
export * from './core/profile.js';
export * from './trace/schema.js';
