// The members of the unions too large for the schema to copy, read from the
// stdlib's own tables, and the did-you-mean every .ct error uses.

import { capabilityNumbers } from '../../../stdlib/capabilities.ts';
import { rlimitNumbers } from '../../../stdlib/rlimits.ts';
import { errnoNumbers, syscallNumbers } from '../../../stdlib/syscalls.ts';
import type { NamesOf } from './shape.ts';

let cache: Record<NamesOf, Set<string>> | undefined;

export function namesOf(of: NamesOf): Set<string> {
  cache ??= {
    Capability: new Set(Object.keys(capabilityNumbers)),
    Syscall: new Set([...Object.keys(syscallNumbers.x86_64), ...Object.keys(syscallNumbers.aarch64)]),
    ErrnoName: new Set(Object.keys(errnoNumbers)),
    RlimitType: new Set(Object.keys(rlimitNumbers)),
  };
  return cache[of];
}

/** Edit distance with transpositions (optimal string alignment), for did-you-mean. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The known name closest to `word` (case aside): within 2 edits, 1 for words of 4 letters or fewer. */
export function closest(word: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const w = word.toLowerCase();
  for (const k of known) {
    const d = distance(w, k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= (word.length <= 4 ? 1 : 2) ? best : undefined;
}

export const didYouMean = (word: string, known: Iterable<string>): string | undefined => {
  const c = closest(word, known);
  return c === undefined ? undefined : `did you mean '${c}'?`;
};
