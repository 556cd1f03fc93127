// Delta debugging (Zeller's ddmin) over the rows of a failing sequence: the smallest subsequence that
// still fails, where "fails" re-records the candidate on the real kernel and replays it on the model.

/** Minimises `items` while `fails` stays true; `fails(items)` must be true on entry. */
export async function ddmin<T>(items: readonly T[], fails: (candidate: readonly T[]) => Promise<boolean>): Promise<T[]> {
  let current = [...items];
  let n = 2;
  while (current.length >= 2) {
    const chunk = Math.ceil(current.length / n);
    let reduced = false;
    for (let start = 0; start < current.length; start += chunk) {
      const complement = [...current.slice(0, start), ...current.slice(start + chunk)];
      if (complement.length > 0 && (await fails(complement))) {
        current = complement;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= current.length) break;
      n = Math.min(n * 2, current.length);
    }
  }
  return current;
}
