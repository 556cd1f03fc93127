// The schema of a run directory's two data files, run.json and results.csv, as zod states them.
// `report`, `compare` and `merge` read directories that may be torn, hand-edited or someone else's; a
// field of the wrong type must be a RunDirError naming file and field, never a TypeError later on.
// zod rather than hand-written checks: one declaration gives the check, the message and the path.

import { z } from 'zod';
import { firstIssue } from '../schema-issue.js';

const JOB_STATUS = z.enum(['ok', 'failed']);
const COUNT = z.number().int().nonnegative();
const NON_NEGATIVE = z.number().nonnegative();

const TRACE_INFO = z.object({
  name: z.string().min(1),
  path: z.string(),
  events: COUNT.nullable(),
  bytes: COUNT.nullable(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a hex sha256').nullable(),
});

const JOB_INFO = z.object({
  trace: z.string().min(1),
  profile: z.string().min(1),
  repeat: COUNT,
  status: JOB_STATUS,
  error: z.string().optional(),
  divergences: COUNT,
});

const HOST_INFO = z.object({
  node: z.string(),
  os: z.string(),
  arch: z.string(),
  cpuModel: z.string(),
  cores: COUNT,
  hostname: z.string().optional(),
});

const POOL_INFO = z.object({
  workers: COUNT,
  wallMs: NON_NEGATIVE,
  busyMs: NON_NEGATIVE,
  utilization: NON_NEGATIVE,
  joins: COUNT.optional(),
  idleMs: NON_NEGATIVE.optional(),
});

export const RUN_INFO_SCHEMA = z.object({
  format: z.literal(1),
  runId: z.string().min(1),
  complete: z.boolean().optional(),
  s2benchVersion: z.string(),
  gitCommit: z.string().nullable(),
  host: HOST_INFO,
  options: z.record(z.string(), z.unknown()),
  startedAt: z.string(),
  finishedAt: z.string(),
  traces: z.array(TRACE_INFO),
  jobs: z.array(JOB_INFO),
  pool: POOL_INFO.optional(),
});

/**
 * A number as results.csv writes it (JavaScript's shortest round-trip decimal): no hex, no `+`, no
 * spaces, no Infinity/NaN, nothing a spreadsheet or a locale might have rewritten.
 */
const PLAIN_DECIMAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?(e[-+][0-9]+)?$/;

export const RESULT_ROW_SCHEMA = z.object({
  run: z.string().min(1),
  trace: z.string().min(1),
  profile: z.string().min(1),
  metric: z.string().min(1),
  unit: z.string(),
  repeat: z.string().regex(/^(0|[1-9][0-9]*)$/, 'not a whole number').transform(Number),
  value: z.string().regex(PLAIN_DECIMAL, 'not a plain decimal number').transform(Number),
});


/** The first issue of a failed parse as `field 'a.b[0]': message`. */
export function describeIssue(error: z.ZodError): string {
  const { path, message } = firstIssue(error);
  return path === '' ? message : `field '${path}': ${message}`;
}
