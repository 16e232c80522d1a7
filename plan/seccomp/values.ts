// Syscall arguments are 64-bit unsigned to seccomp (struct seccomp_data has
// __u64 args[6]); a Spec holds them as canonical decimal strings, and these
// helpers are the one place that reads and writes them.

import { errnoNumbers } from '../../stdlib/syscalls.ts';

export const U64_MAX = (1n << 64n) - 1n;

/**
 * A value as a u64, or undefined if it is not one: a safe integer (negative
 * ones as two's complement: the kernel sees -1 as 2^64-1), a bigint in
 * -2^63..2^64-1, or a decimal or 0x-hex string of 0..2^64-1.
 */
export function u64Of(v: unknown): bigint | undefined {
  let n: bigint;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) return undefined;
    n = BigInt(v);
  } else if (typeof v === 'bigint') n = v;
  else if (typeof v === 'string' && /^(0|[1-9]\d*|0x[0-9a-fA-F]+)$/.test(v)) return inRange(BigInt(v));
  else return undefined;
  if (n < 0n && n >= -(1n << 63n)) n += 1n << 64n;
  return inRange(n);
}

const inRange = (n: bigint) => (n >= 0n && n <= U64_MAX ? n : undefined);

/** A canonical decimal u64 string (as a Spec holds it) → bigint. */
export function parseDecimalU64(s: string): bigint | undefined {
  return /^(0|[1-9]\d*)$/.test(s) ? inRange(BigInt(s)) : undefined;
}

/** An errno by number or name → its number; undefined for an unknown name or a non-integer. */
export function errnoOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v === 'string' && Object.hasOwn(errnoNumbers, v)) return errnoNumbers[v as keyof typeof errnoNumbers];
  return undefined;
}

export const EPERM = errnoNumbers.EPERM;
export const ENOSYS = errnoNumbers.ENOSYS;
