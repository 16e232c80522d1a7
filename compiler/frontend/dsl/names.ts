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
  // one flat table, d(i, j) at i * w + j: a mistake is measured against every key of its block, and a file may hold thousands
  const w = b.length + 1;
  const d = new Uint32Array((a.length + 1) * w);
  for (let i = 0; i <= a.length; i++) d[i * w] = i;
  for (let j = 0; j <= b.length; j++) d[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i * w + j] = Math.min(d[(i - 1) * w + j] + 1, d[i * w + j - 1] + 1, d[(i - 1) * w + j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i * w + j] = Math.min(d[i * w + j], d[(i - 2) * w + j - 2] + 1);
    }
  }
  return d[a.length * w + b.length];
}

/**
 * The known name closest to `word` (case aside): within 2 edits, 1 for words
 * of 4 letters or fewer; else the only one that `word` begins (a name cut
 * short: CAP_NET_BIND for CAP_NET_BIND_SERVICE), if it is 4 letters or more.
 */
export function closest(word: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const w = word.toLowerCase();
  const most = word.length <= 4 ? 1 : 2;
  const extending: string[] = [];
  for (const k of known) {
    const l = k.toLowerCase();
    if (w.length >= 4 && l.startsWith(w)) extending.push(k);
    // Words whose lengths differ by more are that many edits apart: not measured, as a 100 kB word would take seconds.
    if (Math.abs(l.length - w.length) > most) continue;
    const d = distance(w, l);
    if (d < bestD) [best, bestD] = [k, d];
  }
  if (best !== undefined && bestD <= most) return best;
  return extending.length === 1 ? extending[0] : undefined;
}

export const didYouMean = (word: string, known: Iterable<string>): string | undefined => {
  const c = closest(word, known);
  return c === undefined ? undefined : `did you mean '${c}'?`;
};
