import type { Bytes } from './types.ts';

const factor = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 } as const;

/** Bytes as a number; NaN when the text is not a whole number with a unit. */
export function bytes(b: Bytes): number {
  if (typeof b === 'number') return b;
  const m = /^(\d+)(Ki|Mi|Gi|Ti)$/.exec(b);
  return m ? Number(m[1]) * factor[m[2] as keyof typeof factor] : NaN;
}
