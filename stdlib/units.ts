import type { Bytes } from './types.ts';

/** Powers of 1024: every unit is binary, as docker and runc read `64m` and `1g` (and `64MB`). */
const shift = { k: 10, m: 20, g: 30, t: 40 } as const;

/** The accepted forms, said once: in errors of sources, `.ct` files and flags alike. */
export const sizeUnitForms =
  '64k, 64m, 1g, 1t, or 64Ki, 64Mi, 1Gi, or 64KB, 64MB, 1GB (every unit a power of 1024, as docker and runc read them)';
export const sizeForms = `a whole number of bytes, or one with a unit: ${sizeUnitForms}`;

/** Bytes as a number; NaN when the text is not one of sizeForms. */
export function bytes(b: Bytes): number {
  if (typeof b === 'number') return b;
  // docker's reading (go-units RAMInBytes), whole numbers only: 64, 64b, 64m, 64M, 64Mi, 64MB, 64MiB
  const m = /^(\d+)([kmgt])?i?b?$/i.exec(b);
  if (!m || (/i/i.test(b) && !m[2])) return NaN;
  return Number(m[1]) * 2 ** (m[2] ? shift[m[2].toLowerCase() as keyof typeof shift] : 0);
}
