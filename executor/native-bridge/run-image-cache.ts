// The run-image cache's bound (docs/design.md, "Bounding the run-image
// cache"). Every container run through Node leaves an image there
// (image.ts), and under containerd every container is a new config.json,
// so the cache (on tmpfs) would only grow. An image's mtime is when it was
// last used: its write, or the launcher's hit (native/launcher/image.c sets
// it; image.h). Pruning goes least recently used first, by unlink only: a
// run that has the file open reads it whole, one that opens it later finds
// none and compiles again (images are written by rename, never in place).

import { closeSync, constants, futimesSync, lstatSync, openSync, readdirSync, unlinkSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { CtcError } from '../../common/error.ts';
import { isAlive } from '../container/proc.ts';

/** native/launcher/launcher.h CACHE_DIR */
export const cacheDir = () => process.env.CTC_CACHE_DIR || '/run/ctc-cache';

export interface CacheBound {
  /** files: a bundle's image is two (its name and its plan's, one file linked twice) */
  maxEntries: number;
  maxBytes: number;
  maxAgeMs: number;
}

export const DEFAULT_BOUND: CacheBound = { maxEntries: 1024, maxBytes: 32 << 20, maxAgeMs: 14 * 86_400_000 };
/** An over-full cache is pruned to this share of its bound, so the next scan is that many writes away. */
const LOW_WATER = 0.9;
/** A write scans the whole cache when it is over its entry bound, or when the last scan is older than this. */
const SCAN_EVERY_MS = 3_600_000;
/** The last scan's time, as this file's mtime. */
const STAMP = '.pruned';
const ENTRY = /^[0-9a-f]{64}\.img$/;
/** image.ts's write in progress: <entry>.<pid> */
const TEMP = /^[0-9a-f]{64}\.img\.(\d+)$/;

const ENV: [keyof CacheBound, string, string, number][] = [
  ['maxEntries', 'CTC_CACHE_MAX_ENTRIES', 'a number of files', 1],
  ['maxBytes', 'CTC_CACHE_MAX_BYTES', 'a number of bytes', 1],
  ['maxAgeMs', 'CTC_CACHE_MAX_AGE', 'a number of seconds', 1000],
];

/** The bound, with CTC_CACHE_MAX_ENTRIES, CTC_CACHE_MAX_BYTES and CTC_CACHE_MAX_AGE (seconds) over the defaults. */
export function cacheBound(env: NodeJS.ProcessEnv = process.env): CacheBound {
  const bound = { ...DEFAULT_BOUND };
  for (const [key, name, what, unit] of ENV) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    if (!/^\d+$/.test(v)) throw new CtcError('CT_USAGE', `${name} is ${what}, not ${v}`);
    bound[key] = Number(v) * unit;
  }
  return bound;
}

/** A file in the cache, as lstat saw it. */
export interface CacheFile {
  name: string;
  ino: bigint;
  size: number;
  mtimeMs: number;
}

/**
 * The names to remove so the cache keeps its bound: the images unused for
 * maxAge, then, if it is still over a bound, the least recently used until
 * it is under LOW_WATER of both. An image goes with all its names.
 */
export function overBound(files: CacheFile[], bound: CacheBound, now: number): string[] {
  const images = new Map<bigint, CacheFile[]>();
  for (const f of files) images.set(f.ino, [...(images.get(f.ino) ?? []), f]);
  const lru = [...images.values()].sort((a, b) => a[0].mtimeMs - b[0].mtimeMs);
  let count = files.length;
  let bytes = lru.reduce((n, names) => n + names[0].size, 0);
  const over = count > bound.maxEntries || bytes > bound.maxBytes;
  const out: string[] = [];
  for (const names of lru) {
    const expired = now - names[0].mtimeMs > bound.maxAgeMs;
    const evict = over && (count > bound.maxEntries * LOW_WATER || bytes > bound.maxBytes * LOW_WATER);
    if (!expired && !evict) break; // oldest first: the rest are newer
    out.push(...names.map((f) => f.name));
    count -= names.length;
    bytes -= names[0].size;
  }
  return out;
}

/** The cache dir, if it is one only its owner (this user) can write: never a symlink, never followed. */
function ownDir(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === process.geteuid!() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

const lstat = (path: string): BigIntStats | undefined => {
  try {
    return lstatSync(path, { bigint: true });
  } catch {
    return undefined;
  }
};

/** Removes (unless dryRun) what is over the bound, and writes of images that died halfway; returns their names. */
export function pruneRunImages(dir: string, bound: CacheBound, dryRun = false): string[] {
  if (!ownDir(dir)) return [];
  const now = Date.now();
  const files: CacheFile[] = [];
  const seen = new Map<string, BigIntStats>();
  const dead: string[] = [];
  for (const name of readdirSync(dir)) {
    const temp = TEMP.exec(name);
    if (!temp && !ENTRY.test(name)) continue;
    const st = lstat(join(dir, name));
    if (!st?.isFile()) continue; // a symlink or anything else: not ours to judge
    if (temp) {
      if (!isAlive(Number(temp[1])) || now - Number(st.mtimeMs) > SCAN_EVERY_MS) dead.push(name);
      continue;
    }
    seen.set(name, st);
    files.push({ name, ino: st.ino, size: Number(st.size), mtimeMs: Number(st.mtimeMs) });
  }
  const out = [...dead, ...overBound(files, bound, now)];
  if (dryRun) return out;
  const removed = out.filter((name) => removeIfSame(join(dir, name), seen.get(name)));
  stamp(dir);
  return removed;
}

/** Unlinks the file unless it changed since the scan (a hit just used it, or a new image replaced it). */
function removeIfSame(path: string, was: BigIntStats | undefined): boolean {
  const now = lstat(path);
  if (!now?.isFile() || (was && (now.ino !== was.ino || now.mtimeNs !== was.mtimeNs))) return false;
  try {
    unlinkSync(path);
    return true;
  } catch {
    return false; // another prune was first
  }
}

/** Marks the scan done (a stamp that cannot be written only means the next write scans again). */
function stamp(dir: string): void {
  try {
    const fd = openSync(join(dir, STAMP), constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    futimesSync(fd, new Date(), new Date());
    closeSync(fd);
  } catch {
    // not a file we may write: leave it
  }
}

/**
 * After a write: a scan only when the cache is over its entry bound (names
 * alone, no stat each) or its last scan is SCAN_EVERY_MS old, so a run
 * rarely pays for more than one readdir and one stat.
 */
export function pruneAfterWrite(dir: string): void {
  const bound = cacheBound();
  const entries = readdirSync(dir).filter((name) => name.endsWith('.img')).length;
  const last = lstat(join(dir, STAMP));
  if (entries <= bound.maxEntries && last && Date.now() - Number(last.mtimeMs) < SCAN_EVERY_MS) return;
  pruneRunImages(dir, bound);
}
