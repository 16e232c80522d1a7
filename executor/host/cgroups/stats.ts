// A container's resource usage in runc's stats shape (`runc events --stats`),
// read from cgroup v1 or v2 files. Only what the kernel reports is filled.

import { readValue } from './files.ts';

/**
 * A counter as the kernel wrote it. Past 2^53 a JS number would round it
 * (v1's unlimited 9223372036854771712 printed as 9223372036854772000), so
 * such values stay bigints and statsJson prints their digits.
 */
export type Count = number | bigint;

export interface MemoryEntry {
  limit: Count;
  usage?: Count;
  max?: Count;
  failcnt: Count;
}

export interface Stats {
  cpu: {
    usage: { total?: Count; percpu?: Count[]; kernel: Count; user: Count };
    throttling: { periods?: Count; throttledPeriods?: Count; throttledTime?: Count };
  };
  memory: { usage: MemoryEntry; swap?: MemoryEntry; raw?: Record<string, Count> };
  pids: { current?: Count; limit?: Count };
  blkio: { ioServiceBytesRecursive?: BlkioEntry[]; ioServicedRecursive?: BlkioEntry[] };
  hugetlb: Record<string, { usage?: Count; max?: Count; failcnt: Count }>;
}

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: Count;
}

/** Decimal digits as a number, or a bigint where a number would round them. */
export function count(digits: string): Count {
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : BigInt(digits);
}

/** c × k (a unit change), kept exact. */
export function scale(c: Count, k: number): Count {
  return typeof c === 'number' && Number.isSafeInteger(c * k) ? c * k : count((BigInt(c) * BigInt(k)).toString());
}

/** A file of "key value" lines. */
export function keyed(file: string): Record<string, Count> {
  const out: Record<string, Count> = {};
  for (const line of (readValue(file) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = count(v);
  }
  return out;
}

/** A number from a file; 'max' and absent are undefined. */
export function num(file: string): Count | undefined {
  const v = readValue(file);
  return v !== undefined && /^\d+$/.test(v) ? count(v) : undefined;
}

/** v2's "max" as runc reports it: the largest u64. (v1's unlimited is a huge page-aligned number, reported as it is.) */
export const MAX_U64 = 2n ** 64n - 1n;

/** JSON with bigints as their digits, as runc (Go's uint64) prints them. */
export function statsJson(value: unknown): string {
  const marks: string[] = [];
  const text = JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `\u0000${marks.push(v.toString()) - 1}` : v));
  return text.replace(/"\\u0000(\d+)"/g, (_, k: string) => marks[Number(k)]);
}

/** blkio.throttle.io_service_bytes_recursive lines: "8:0 Read 4096". */
export function blkioV1(file: string): BlkioEntry[] {
  return (readValue(file) ?? '')
    .split('\n')
    .map((l) => /^(\d+):(\d+) (\w+) (\d+)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ major: Number(m[1]), minor: Number(m[2]), op: m[3], value: count(m[4]) }));
}

/** io.stat lines: "8:0 rbytes=4096 wbytes=0 rios=1 wios=0 ...", as runc maps them to blkio. */
export function blkioV2(file: string): Stats['blkio'] {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of (readValue(file) ?? '').split('\n')) {
    const [dev, ...fields] = line.trim().split(' ');
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const f = Object.fromEntries(fields.map((x) => x.split('=')).map(([k, v]) => [k, count(v)]));
    const entry = (op: string, value: Count | undefined) => ({ major: Number(m[1]), minor: Number(m[2]), op, value: value ?? 0 });
    bytes.push(entry('Read', f.rbytes), entry('Write', f.wbytes));
    ios.push(entry('Read', f.rios), entry('Write', f.wios));
  }
  return { ioServiceBytesRecursive: bytes, ioServicedRecursive: ios };
}
