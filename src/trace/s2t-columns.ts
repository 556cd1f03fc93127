// Per-column encodings of .s2t v2 chunks (src/trace/s2t.ts): each column is stored in whichever of
// these is smallest, chosen per chunk:
//   RAW    the elements as they are
//   CONST  one element: every row has it (the `line` column's deltas, a trace's single vCPU, ...)
//   RLE    u32 run count, the runs' lengths (u32 each), then one element per run
// and, for u32 columns, the same three applied to the element-wise differences (DELTA: gpa, hva and
// line columns advance by steady steps, and their differences repeat). Differences wrap modulo 2^32,
// so decoding is exact for any values. An 8-byte column (ret) is compared as pairs of u32 words.

export const ENC_RAW = 0;
export const ENC_CONST = 1;
export const ENC_RLE = 2;
/** Added to one of the above: the elements are differences from the previous one (u32 columns only). */
export const ENC_DELTA = 4;

type Words = Uint8Array | Uint16Array | Uint32Array;

/** A column's bytes as words of its element width (8-byte elements as 2 u32 words). */
function wordsOf(bytes: Uint8Array, width: number): Words {
  const n = bytes.length / Math.min(width, 4);
  if (width === 1) return bytes;
  // Copy when unaligned: typed-array views need an offset that is a multiple of their element size.
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return width === 2 ? new Uint16Array(aligned.buffer, aligned.byteOffset, n) : new Uint32Array(aligned.buffer, aligned.byteOffset, n);
}

// The encoder reads every column as 32-bit words (a narrow column is widened once, an 8-byte one is
// pairs of words), so each loop below sees one array type and stays monomorphic, and it stops counting
// runs as soon as a run-length form could no longer beat the best encoding found so far. The words are
// read as signed (Int32Array): equality and wrapping differences are the same bit for bit, and every
// value stays a small integer for the JIT (unsigned words above 2^31 would be doubles).

/**
 * Where a narrow column is widened: one buffer for every column of every chunk, grown to the longest.
 * With a fresh Int32Array per narrow column (three a chunk), widening and counting a chunk's narrow
 * columns took 4x as long (allocation and collection). Nothing of it outlives encodeColumn: the
 * encodings it returns are copies.
 */
let widened = new Int32Array(0);

/** A column's elements as 32-bit words: a narrow column widened (into `widened`), a 4- or 8-byte one as it is. */
function wordsI32(bytes: Uint8Array, width: number): Int32Array {
  if (width >= 4) {
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    return new Int32Array(aligned.buffer, aligned.byteOffset, aligned.length >>> 2);
  }
  const n = bytes.length / width;
  if (widened.length < n) widened = new Int32Array(n);
  const wide = widened.subarray(0, n);
  wide.set(wordsOf(bytes, width));
  return wide;
}

// Runs of equal elements in `w` (one function per shape, each monomorphic); each stops counting past
// `cap` and then returns cap + 1, "too many".

function runsOfWords(w: Int32Array, cap: number): number {
  let runs = w.length > 0 ? 1 : 0;
  for (let i = 1; i < w.length; i++) {
    if (w[i] !== w[i - 1] && ++runs > cap) return runs;
  }
  return runs;
}

/** Runs of the differences between words (the first word's difference is itself). */
function runsOfDeltas(w: Int32Array, cap: number): number {
  let runs = w.length > 0 ? 1 : 0;
  let d = w.length > 0 ? w[0]! : 0;
  for (let i = 1; i < w.length; i++) {
    const e = (w[i]! - w[i - 1]!) | 0;
    if (e !== d) {
      if (++runs > cap) return runs;
      d = e;
    }
  }
  return runs;
}

/** Runs of equal pairs of words (8-byte elements). */
function runsOfPairs(w: Int32Array, cap: number): number {
  let runs = w.length > 0 ? 1 : 0;
  for (let i = 2; i < w.length; i += 2) {
    if ((w[i] !== w[i - 2] || w[i + 1] !== w[i - 1]) && ++runs > cap) return runs;
  }
  return runs;
}

/**
 * The run-length form of `w` (elements of `per` words, written back at `width` bytes each), or of its
 * differences when `delta`.
 */
function rleEncode(w: Int32Array, per: number, delta: boolean, width: number, runs: number): Uint8Array {
  const out = new Uint8Array(4 + runs * 4 + runs * width);
  const lengths = new Uint32Array(out.buffer, 4, runs);
  new Uint32Array(out.buffer, 0, 1)[0] = runs;
  const values = delta ? deltaRuns(w, lengths) : per === 2 ? pairRuns(w, lengths) : wordRuns(w, lengths);
  // 4 + runs * 4 is a multiple of 4: the values' view is aligned; set() converts each word to the
  // column's unsigned type of `width` bytes, keeping its low bits.
  wordsOf(out.subarray(4 + runs * 4), width).set(values);
  return out;
}

/** Fills `lengths` with the runs of equal words in `w`; returns each run's word. */
function wordRuns(w: Int32Array, lengths: Uint32Array): Int32Array {
  const values = new Int32Array(lengths.length);
  let run = 0;
  let start = 0;
  for (let e = 1; e < w.length; e++) {
    if (w[e] === w[e - 1]) continue;
    lengths[run] = e - start;
    values[run++] = w[start]!;
    start = e;
  }
  lengths[run] = w.length - start;
  values[run] = w[start]!;
  return values;
}

/** wordRuns over the differences between words (the first word's difference is itself). */
function deltaRuns(w: Int32Array, lengths: Uint32Array): Int32Array {
  const values = new Int32Array(lengths.length);
  let run = 0;
  let length = 1;
  let d = w[0]!;
  for (let e = 1; e < w.length; e++) {
    const next = (w[e]! - w[e - 1]!) | 0;
    if (next === d) {
      length++;
      continue;
    }
    lengths[run] = length;
    values[run++] = d;
    d = next;
    length = 1;
  }
  lengths[run] = length;
  values[run] = d;
  return values;
}

/** wordRuns for elements of two words. */
function pairRuns(w: Int32Array, lengths: Uint32Array): Int32Array {
  const values = new Int32Array(lengths.length * 2);
  let run = 0;
  let start = 0;
  for (let e = 2; e < w.length; e += 2) {
    if (w[e] === w[e - 2] && w[e + 1] === w[e - 1]) continue;
    lengths[run] = (e - start) / 2;
    values[run * 2] = w[start]!;
    values[run * 2 + 1] = w[start + 1]!;
    run++;
    start = e;
  }
  lengths[run] = (w.length - start) / 2;
  values[run * 2] = w[start]!;
  values[run * 2 + 1] = w[start + 1]!;
  return values;
}

/** The smallest encoding of one column's bytes (rows elements of `width` bytes): [tag, bytes]. */
export function encodeColumn(bytes: Uint8Array, width: number): [number, Uint8Array] {
  const per = width === 8 ? 2 : 1;
  const w = wordsI32(bytes, width);
  let best: [number, Uint8Array] = [ENC_RAW, bytes];
  // Run-length wins when 4 + runs * (4 + width) < best's bytes; a constant when runs is 1.
  const cap = (): number => Math.max(1, Math.floor((best[1].length - 5) / (4 + width)));
  const consider = (delta: boolean): void => {
    const runs = delta ? runsOfDeltas(w, cap()) : per === 2 ? runsOfPairs(w, cap()) : runsOfWords(w, cap());
    const tag = delta ? ENC_DELTA : 0;
    if (runs === 1) {
      // The first difference is the first element itself.
      if (width < best[1].length) best = [ENC_CONST | tag, new Uint8Array(w.buffer, w.byteOffset, width).slice()];
      return;
    }
    if (4 + runs * (4 + width) < best[1].length) best = [ENC_RLE | tag, rleEncode(w, per, delta, width, runs)];
  };
  consider(false);
  // Raw differences are no smaller than raw values: only their constant or run-length forms count.
  if (width === 4 && best[0] !== ENC_CONST) consider(true);
  return best;
}

/** Decodes `data` (encoding `tag`) into `out`: rows elements of `width` bytes. Throws RangeError on nonsense. */
export function decodeColumn(tag: number, data: Uint8Array, out: Uint8Array, width: number): void {
  const rows = out.length / width;
  const base = tag & ~ENC_DELTA;
  const per = width === 8 ? 2 : 1;
  // Filled through word views (TypedArray.fill per run), not element by element.
  const words = wordsOf(out, width);
  if (base === ENC_RAW) {
    if (data.length !== out.length) throw new RangeError(`raw column of ${data.length} bytes, expected ${out.length}`);
    new Uint8Array(words.buffer, words.byteOffset, out.length).set(data);
  } else if (base === ENC_CONST) {
    if (data.length !== width) throw new RangeError(`constant column of ${data.length} bytes, expected ${width}`);
    fillRun(words, wordsOf(data.slice(), width), 0, 0, rows, per);
  } else if (base === ENC_RLE) {
    if (data.length < 4) throw new RangeError('run-length column without a run count');
    const view = new DataView(data.buffer, data.byteOffset, data.length);
    const runs = view.getUint32(0, true);
    if (data.length !== 4 + runs * (4 + width)) throw new RangeError(`run-length column of ${data.length} bytes for ${runs} runs`);
    const values = wordsOf(data.slice(4 + runs * 4), width);
    let e = 0;
    for (let r = 0; r < runs; r++) {
      const length = view.getUint32(4 + r * 4, true);
      if (e + length > rows) throw new RangeError(`run-length column longer than its ${rows} rows`);
      fillRun(words, values, r, e, e + length, per);
      e += length;
    }
    if (e !== rows) throw new RangeError(`run-length column of ${e} rows, expected ${rows}`);
  } else {
    throw new RangeError(`unknown column encoding ${tag}`);
  }
  if ((tag & ENC_DELTA) !== 0) {
    if (width !== 4) throw new RangeError(`delta encoding of a ${width}-byte column`);
    let prev = 0;
    for (let i = 0; i < words.length; i++) prev = words[i] = (words[i]! + prev) >>> 0;
  }
  if (words.buffer !== out.buffer) out.set(new Uint8Array(words.buffer, words.byteOffset, out.length));
}

/** Elements [from, to) of `words` set to element `r` of `values` (`per` words an element). */
function fillRun(words: Words, values: Words, r: number, from: number, to: number, per: number): void {
  if (per === 1) {
    words.fill(values[r]!, from, to);
    return;
  }
  const lo = values[r * 2]!;
  const hi = values[r * 2 + 1]!;
  for (let e = from; e < to; e++) {
    words[e * 2] = lo;
    words[e * 2 + 1] = hi;
  }
}
