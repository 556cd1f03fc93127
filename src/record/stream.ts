// `s2bench record TRACE`, streamed: the trace is read twice, never held. The native recorder takes a
// whole sequence before it runs it (one fresh VM per sequence, scripts/recorder/recorder.c), so the
// first pass writes the rows to its stdin chunk by chunk; the second reads the trace again and, chunk
// by chunk, fills each row's `ret` from the recorder's answers as they are read off its stdout and
// writes the chunk to the output. What this process holds is a chunk and its answers.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import type { Readable, Writable } from 'node:stream';
import { InputError } from '../errors.js';
import { openTrace, TraceFileWriter } from '../trace/io.js';
import type { TraceMeta } from '../trace/schema.js';
import { encodeRows, fillRets, parseAnswerLine, type RowAnswer } from './protocol.js';
import { probeKvm, recorderBinary, RecorderUnavailable } from './recorder.js';

type BodyComment = NonNullable<TraceMeta['bodyComments']>[number];

/**
 * Records the trace at `path` on this machine's /dev/kvm into `out` (atomically: nothing under `out`
 * unless it all went well), its metadata `metaOf` the input's; returns how many rows got no ret.
 */
export async function recordTraceFile(path: string, out: string, metaOf: (input: TraceMeta) => TraceMeta): Promise<number> {
  probeKvm(); // no /dev/kvm (or no compiler): say so before reading anything
  const child = spawn(recorderBinary(), [], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));
  const exited = once(child, 'close') as Promise<[number | null]>;
  // A recorder that dies early closes its stdin: the write error is reported as its exit below.
  child.stdin.on('error', () => undefined);
  // Node resumes (and so discards) a child's output nobody listens to when the child exits, which a
  // recorder done with a short trace does before the second pass asks for its answers.
  child.stdout.on('readable', () => undefined);
  const failed = async (what: string): Promise<RecorderUnavailable> => {
    const [status] = await exited;
    return new RecorderUnavailable(`${what} (recorder exited with status ${status}): ${stderr.trim()}`);
  };
  let writer: TraceFileWriter | undefined;
  try {
    await sendSequence(path, child.stdin);
    const answers = answerLines(child.stdout);
    const input = await openTrace(path);
    const meta = metaOf(input.meta);
    const notes = new Set<BodyComment>();
    const pending: BodyComment[] = []; // the output's comments not yet written (meta.bodyComments)
    meta.bodyComments = pending;
    let taken = 0; // input comments moved to `pending`
    const take = (before: number): void => {
      const comments = input.meta.bodyComments ?? [];
      for (; taken < comments.length && comments[taken]!.row < before; taken++) {
        // A re-recorded trace gets fresh `# recorder:` notes, not a second copy of the old ones.
        if (!comments[taken]!.text.startsWith('# recorder:')) pending.push(comments[taken]!);
      }
      // The input's comments before the notes on the same row, as a whole recording orders them.
      pending.sort((a, b) => a.row - b.row || Number(notes.has(a)) - Number(notes.has(b)));
    };
    writer = await TraceFileWriter.create(out, meta);
    let unrecorded = 0;
    for await (const chunk of input.chunks()) {
      const rows = chunk.length === 0 ? [] : await chunkAnswers(answers, chunk.length, path);
      if ('failure' in rows) throw new InputError(`record: ${path}: ${rows.failure}`);
      for (const u of fillRets([chunk], rows)) {
        const note = { row: u.row + 1, text: `# recorder: row above has no ret: ${u.why}` };
        notes.add(note);
        pending.push(note);
        unrecorded++;
      }
      take(chunk.firstRow + chunk.length);
      await writer.writeChunk(chunk);
      // Written comments are dropped: the writers look only at rows from the next chunk on.
      const end = chunk.firstRow + chunk.length;
      const written = pending.findIndex((c) => c.row >= end);
      for (const c of pending.splice(0, written < 0 ? pending.length : written)) notes.delete(c);
    }
    await input.close();
    const last = await chunkAnswers(answers, 'end', path);
    if ('failure' in last) throw new InputError(`record: ${path}: ${last.failure}`);
    take(Infinity);
    const [status] = await exited;
    if (status !== 0) throw await failed('recording failed');
    await writer.commit();
    return unrecorded;
  } catch (err) {
    await writer?.abort();
    child.kill();
    if (err instanceof Error && /EPIPE|recorder answered/.test(err.message)) throw await failed(err.message);
    throw err;
  }
}

/** The trace's rows as one recorder sequence, written as the trace is read. */
async function sendSequence(path: string, stdin: Writable): Promise<void> {
  const input = await openTrace(path);
  const write = async (text: string): Promise<void> => {
    if (!stdin.write(text)) await Promise.race([once(stdin, 'drain'), once(stdin, 'close')]);
  };
  try {
    await write('S\n');
    for await (const chunk of input.chunks()) await write(encodeRows(chunk));
    await write('E\n');
  } finally {
    await input.close();
  }
  stdin.end();
}

/**
 * The next `rows` answers (or, with 'end', those left before the sequence's end, which should be
 * none), or the failure the recorder reported instead.
 */
async function chunkAnswers(lines: AsyncIterator<string>, rows: number | 'end', path: string): Promise<RowAnswer[] | { failure: string }> {
  const answers: RowAnswer[] = [];
  for (;;) {
    if (answers.length === rows) return answers;
    const next = await lines.next();
    if (next.done) throw new Error(`recorder answered ${answers.length} of the rows of a chunk of ${path} and stopped`);
    const parsed = parseAnswerLine(next.value);
    if (parsed === 'end') {
      if (rows !== 'end') throw new Error(`recorder answered ${answers.length} rows of a chunk, the trace has more`);
      if (answers.length > 0) throw new Error(`recorder answered ${answers.length} rows more than the trace has`);
      return answers;
    }
    if ('failure' in parsed) return parsed;
    if (!('guestNs' in parsed)) answers.push(parsed);
  }
}

/** Lines of a stream, read only as they are asked for (the recorder waits while they are not). */
async function* lineStream(stream: Readable): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const data of stream) {
    const lines = (rest + decoder.write(data as Buffer)).split('\n');
    rest = lines.pop()!;
    for (const line of lines) if (line !== '') yield line;
  }
  rest += decoder.end();
  if (rest !== '') yield rest;
}

function answerLines(stdout: Readable): AsyncIterator<string> {
  return lineStream(stdout)[Symbol.asyncIterator]();
}
