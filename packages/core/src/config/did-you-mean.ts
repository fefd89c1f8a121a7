/**
 * The known name closest to a misspelled one, for "did you mean" hints on flags, YAML keys and
 * DDS_* variables: the smallest edit distance (a swap of two neighbours counts as one edit),
 * within a third of the name's length (at least 2), compared without case, `-` or `_`.
 */
export function closest(name: string, known: Iterable<string>): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const target = norm(name);
  const limit = Math.max(2, Math.floor(target.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    const d = editDistance(target, norm(candidate), bestDistance);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** `(did you mean "x"?)` with a leading space, or '' when nothing is close. */
export function didYouMean(name: string, known: Iterable<string>, format = (s: string) => `"${s}"`): string {
  const c = closest(name, known);
  return c === undefined ? '' : ` (did you mean ${format(c)}?)`;
}

/** Optimal string alignment distance; gives up (returns `cap`) once it cannot be below `cap`. */
function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin >= cap) return cap;
    prev2 = prev;
    prev = cur;
  }
  return Math.min(prev[b.length]!, cap);
}
