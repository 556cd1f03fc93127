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

/** Runs of equal elements (`per` words each) in `w`: how many. */
function runCount(w: Words, per: number): number {
  const elements = w.length / per;
  if (elements === 0) return 0;
  let runs = 1;
  for (let e = 1; e < elements; e++) {
    for (let k = 0; k < per; k++) {
      if (w[e * per + k] !== w[(e - 1) * per + k]) {
        runs++;
        break;
      }
    }
  }
  return runs;
}

function rleEncode(w: Words, per: number, width: number, runs: number): Uint8Array {
  const elements = w.length / per;
  const out = new Uint8Array(4 + runs * 4 + runs * width);
  const view = new DataView(out.buffer);
  view.setUint32(0, runs, true);
  // 4 + runs * 4 is a multiple of 4: the view is aligned and writes go straight into `out`.
  const values = wordsOf(out.subarray(4 + runs * 4), width);
  let run = 0;
  let start = 0;
  for (let e = 1; e <= elements; e++) {
    let same = e < elements;
    for (let k = 0; same && k < per; k++) same = w[e * per + k] === w[start * per + k];
    if (same) continue;
    view.setUint32(4 + run * 4, e - start, true);
    for (let k = 0; k < per; k++) values[run * per + k] = w[start * per + k]!;
    run++;
    start = e;
  }
  return out;
}

function deltas(w: Uint32Array): Uint32Array {
  const d = new Uint32Array(w.length);
  let prev = 0;
  for (let i = 0; i < w.length; i++) {
    d[i] = (w[i]! - prev) >>> 0;
    prev = w[i]!;
  }
  return d;
}

/** The smallest encoding of one column's bytes (rows elements of `width` bytes): [tag, bytes]. */
export function encodeColumn(bytes: Uint8Array, width: number): [number, Uint8Array] {
  const per = width === 8 ? 2 : 1;
  let best: [number, Uint8Array] = [ENC_RAW, bytes];
  const consider = (w: Words, delta: number): void => {
    const runs = runCount(w, per);
    if (runs === 1) {
      const one = new Uint8Array(width);
      new Uint8Array(one.buffer).set(new Uint8Array(w.buffer, w.byteOffset, width));
      if (width < best[1].length) best = [ENC_CONST | delta, one];
      return;
    }
    if (4 + runs * (4 + width) < best[1].length) best = [ENC_RLE | delta, rleEncode(w, per, width, runs)];
  };
  consider(wordsOf(bytes, width), 0);
  if (width === 4 && best[0] !== ENC_CONST) {
    const d = deltas(wordsOf(bytes, 4) as Uint32Array);
    // Raw differences are no smaller than raw values: only their constant or run-length forms count.
    consider(d, ENC_DELTA);
  }
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
