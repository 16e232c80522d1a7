// A container's resource usage in runc's stats shape (`runc events --stats`),
// read from cgroup v1 or v2 files. Only what the kernel reports is filled.

import { readValue } from './files.ts';

export interface MemoryEntry {
  limit: number;
  usage?: number;
  max?: number;
  failcnt: number;
}

export interface Stats {
  cpu: {
    usage: { total?: number; percpu?: number[]; kernel: number; user: number };
    throttling: { periods?: number; throttledPeriods?: number; throttledTime?: number };
  };
  memory: { usage: MemoryEntry; swap?: MemoryEntry; raw?: Record<string, number> };
  pids: { current?: number; limit?: number };
  blkio: { ioServiceBytesRecursive?: BlkioEntry[]; ioServicedRecursive?: BlkioEntry[] };
  hugetlb: Record<string, { usage?: number; max?: number; failcnt: number }>;
}

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

/** A file of "key value" lines. */
export function keyed(file: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (readValue(file) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** A number from a file; 'max' and absent are undefined. */
export function num(file: string): number | undefined {
  const v = readValue(file);
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** v1's "unlimited" is a huge page-aligned number; runc reports it as is. */
const MAX_U64 = 2 ** 64 - 1;

/** blkio.throttle.io_service_bytes_recursive lines: "8:0 Read 4096". */
export function blkioV1(file: string): BlkioEntry[] {
  return (readValue(file) ?? '')
    .split('\n')
    .map((l) => /^(\d+):(\d+) (\w+) (\d+)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ major: Number(m[1]), minor: Number(m[2]), op: m[3], value: Number(m[4]) }));
}

/** io.stat lines: "8:0 rbytes=4096 wbytes=0 rios=1 wios=0 ...", as runc maps them to blkio. */
export function blkioV2(file: string): Stats['blkio'] {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of (readValue(file) ?? '').split('\n')) {
    const [dev, ...fields] = line.trim().split(' ');
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const f = Object.fromEntries(fields.map((x) => x.split('=')).map(([k, v]) => [k, Number(v)]));
    const entry = (op: string, value: number | undefined) => ({ major: Number(m[1]), minor: Number(m[2]), op, value: value ?? 0 });
    bytes.push(entry('Read', f.rbytes), entry('Write', f.wbytes));
    ios.push(entry('Read', f.rios), entry('Write', f.wios));
  }
  return { ioServiceBytesRecursive: bytes, ioServicedRecursive: ios };
}

export { MAX_U64 };
