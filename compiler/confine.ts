// What the compiler reads from a project: sources, their imports, image
// archives and ctc configs. CI builds sources a stranger wrote, so each path a
// source names is resolved with its symlinks and must land inside the
// project root, never in /proc, /sys or /dev; a file is read only if it is a
// regular file, small, and text, and a refusal says so by size and kind
// without echoing a byte of it (a symlink to a secret must not come back in a
// syntax error).

import { type Stats, closeSync, constants, fstatSync, lstatSync, openSync, readSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { CtcError } from '../common/error.ts';

/** Bytes of one source file (.ct, .ct.ts, config.json, a ctc config): hand-written sources are a few KiB. */
export const SOURCE_MAX = 1 << 20;
/** Bytes of all the sources one build reads, imports included. */
export const SOURCES_MAX = 8 << 20;

/** What marks a project's root folder, as tools' configs are found. */
const ROOT_MARKERS = ['.git', 'package.json'];
/** The kernel's views of the host: never a source, whatever the root. */
const NEVER = ['/proc', '/sys', '/dev'];

const HINT =
  "a source reads files inside its project only: the nearest folder up with .git or package.json (else the source's own folder), after symlinks, never /proc, /sys or /dev";

/** The real path of the project root of `dir`: see ROOT_MARKERS; `dir` itself (real) when there is none. */
export function projectRoot(dir: string): string {
  const start = realDir(dir);
  // `/` is no project: a marker there would let a source read the whole host.
  for (let d = start; dirname(d) !== d; d = dirname(d)) {
    if (ROOT_MARKERS.some((m) => trusted(join(d, m)))) return d;
  }
  return start;
}

/**
 * A marker counts only if the invoking user or root owns it: one that
 * another user planted (a /tmp/package.json) would widen the root.
 */
function trusted(path: string): boolean {
  try {
    const uid = lstatSync(path).uid;
    return uid === 0 || uid === process.geteuid!();
  } catch {
    return false;
  }
}

/** `dir` with its symlinks resolved, as the project root is. */
export function realDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir); // a folder that is not there holds nothing to read
  }
}

const inside = (path: string, dir: string) => path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/** Where a refusal points: the import's file:line:col (else the file itself), and how to name the file. */
export interface ReadSite {
  /** the file as messages name it */
  name: string;
  /** file:line:col of what named it (an import, an archive key) */
  site?: string;
}

/**
 * The real path of `file` if it lies inside `root` (no root: anywhere but
 * /proc, /sys, /dev): CT_SOURCE_READ if it is not there, CT_SOURCE_ESCAPE
 * if it lands outside.
 */
export function confinedPath(file: string, root: string | undefined, at: ReadSite): string {
  let real: string;
  try {
    real = realpathSync(file);
  } catch (e) {
    throw new CtcError('CT_SOURCE_READ', `cannot read ${at.name}`, { source: at.site, errno: (e as NodeJS.ErrnoException).code });
  }
  if (NEVER.some((d) => inside(real, d)) || (root !== undefined && !inside(real, root))) {
    const where = root === undefined ? 'a kernel file system' : `outside the project root ${root}`;
    throw new CtcError('CT_SOURCE_ESCAPE', `${at.name} resolves to ${real}, ${where}: not read`, { source: at.site, hint: HINT });
  }
  return real;
}

export interface ReadOptions {
  /** the project root (real), or none for a file the caller named (a --config) */
  root?: string;
  max?: number;
  /** a further check of the open file (a config's owner and mode) */
  check?: (st: Stats) => void;
}

/** The text of a confined, regular, small UTF-8 file, read from the very file that was checked. */
export function readConfined(file: string, at: ReadSite, { root, max = SOURCE_MAX, check }: ReadOptions = {}): string {
  const real = confinedPath(file, root, at);
  const limit = (message: string) => new CtcError('CT_SOURCE_LIMIT', `${at.name} ${message}: not read`, { source: at.site });
  let fd: number;
  try {
    // O_NOFOLLOW, O_NONBLOCK: a symlink or a FIFO put in place since realpath is not followed or waited on.
    fd = openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    throw new CtcError('CT_SOURCE_READ', `cannot read ${at.name}`, { source: at.site, errno: (e as NodeJS.ErrnoException).code });
  }
  try {
    // A folder on the way swapped for a symlink since realpath: the open file is elsewhere.
    const opened = openedPath(fd);
    if (opened !== undefined && opened !== real)
      throw new CtcError('CT_SOURCE_ESCAPE', `${at.name} changed while it was read: not read`, { source: at.site, hint: HINT });
    const st = fstatSync(fd);
    if (!st.isFile()) throw limit(`is ${kindOf(st)}, not a regular file`);
    check?.(st);
    if (st.size > max) throw limit(`is ${st.size} bytes, more than the ${max} bytes a source may have`);
    return text(readUpTo(fd, max + 1), max, limit);
  } finally {
    closeSync(fd);
  }
}

/** What the fd is open on, by the kernel's account (undefined where /proc is not mounted). */
function openedPath(fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'a device';
}

function readUpTo(fd: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  let got = 0;
  for (let n; got < size && (n = readSync(fd, buf, got, size - got, null)) > 0; ) got += n;
  return buf.subarray(0, got);
}

/** UTF-8 without NUL bytes (a BOM kept, as readFileSync keeps it), or a refusal by kind. */
function text(bytes: Buffer, max: number, limit: (message: string) => CtcError): string {
  if (bytes.length > max) throw limit(`grew past the ${max} bytes a source may have`);
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw limit(`holds a NUL byte (at byte ${nul}), so it is not text`);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw limit('is not UTF-8 text');
  }
}

/**
 * Reads the sources of one build: each confined to the entry's project root,
 * all together within SOURCES_MAX, each once. Files are named relative to
 * the entry's folder, as source positions are.
 */
export class SourceReader {
  readonly root: string;
  private readonly base: string;
  private readonly texts = new Map<string, string>();
  private total = 0;

  constructor(entry: string) {
    this.base = dirname(resolve(entry));
    this.root = projectRoot(this.base);
  }

  name(file: string): string {
    return relative(this.base, resolve(file)) || file;
  }

  read(file: string, at: ReadSite): string {
    const known = this.texts.get(resolve(file));
    if (known !== undefined) return known;
    const text = readConfined(file, at, { root: this.root });
    this.total += Buffer.byteLength(text);
    if (this.total > SOURCES_MAX) {
      throw new CtcError('CT_SOURCE_LIMIT', `the sources of this build are more than ${SOURCES_MAX} bytes together: ${at.name} not read`, {
        source: at.site,
      });
    }
    this.texts.set(resolve(file), text);
    return text;
  }

  /** The real path of a file a source names but the compiler reads itself (an image archive). */
  path(file: string, at: ReadSite): string {
    return confinedPath(file, this.root, at);
  }
}
