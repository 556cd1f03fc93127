// The differential check: fuzz sequences recorded on /dev/kvm, replayed with check on the model; a
// divergent sequence is shrunk (re-recorded each step) to a minimal trace that becomes a fixture.

import type { Divergence } from '../replay/engine.js';
import type { TraceRow } from '../trace/row.js';
import { fuzzSequence } from './fuzz.js';
import { ddmin } from './shrink.js';
import { modelDivergences, recordRows, recordedText, type RecordedTrace } from './session.js';

export interface DifferentialFinding {
  index: number;
  divergences: Divergence[];
  /** The minimal failing sequence, recorded, as trace text. */
  minimal: string;
  minimalRows: number;
}

export interface DifferentialResult {
  sequences: number;
  rows: number;
  /** Rows the recorder could not give a ret (unnamed exits, ops not done on this host). */
  unrecorded: number;
  failedSequences: number;
  findings: DifferentialFinding[];
  /** Divergent sequences that `known` recognised (already kept as fixtures): counted, not shrunk. */
  known: number;
  recordMs: number;
}

export function fuzzSource(seed: number, index: number): string {
  return `s2bench record --fuzz (seed ${seed}, sequence ${index})`;
}

async function divergent(rows: readonly TraceRow[], source: string): Promise<{ trace: RecordedTrace; divergences: Divergence[] }> {
  const [trace] = recordRows([rows], () => source);
  return { trace: trace!, divergences: trace!.failure === undefined ? await modelDivergences(trace!) : [] };
}

/** Shrinks a divergent row sequence to a minimal one that still diverges on this kernel. */
export async function shrinkSequence(rows: readonly TraceRow[], source: string): Promise<{ text: string; rows: number; divergences: Divergence[] }> {
  const minimal = await ddmin(rows, async (candidate) => (await divergent(candidate, source)).divergences.length > 0);
  const { trace, divergences } = await divergent(minimal, `${source}, shrunk to ${minimal.length} rows`);
  return { text: recordedText(trace), rows: minimal.length, divergences };
}

export async function runDifferential(
  seed: number,
  count: number,
  options: {
    rows?: number;
    maxFindings?: number;
    /** Recognises a divergence already routed (its fixture exists): such sequences are not shrunk. */
    known?: (traceText: string, divergences: readonly Divergence[]) => boolean;
  } = {},
): Promise<DifferentialResult> {
  const sequences = Array.from({ length: count }, (_, i) => fuzzSequence(seed, i, { rows: options.rows }));
  const t0 = performance.now();
  const traces = recordRows(sequences, (i) => fuzzSource(seed, i));
  const recordMs = performance.now() - t0;
  const result: DifferentialResult = { sequences: count, rows: 0, unrecorded: 0, failedSequences: 0, findings: [], known: 0, recordMs };
  for (let i = 0; i < traces.length; i++) {
    const trace = traces[i]!;
    result.rows += sequences[i]!.length;
    result.unrecorded += trace.unrecorded.length;
    if (trace.failure !== undefined) {
      result.failedSequences++;
      continue;
    }
    const divergences = await modelDivergences(trace);
    if (divergences.length === 0) continue;
    if (options.known?.(recordedText(trace), divergences)) {
      result.known++;
      continue;
    }
    if (result.findings.length >= (options.maxFindings ?? 3)) {
      result.findings.push({ index: i, divergences, minimal: recordedText(trace), minimalRows: sequences[i]!.length });
      continue;
    }
    const shrunk = await shrinkSequence(sequences[i]!, fuzzSource(seed, i));
    result.findings.push({ index: i, divergences: shrunk.divergences, minimal: shrunk.text, minimalRows: shrunk.rows });
  }
  return result;
}
