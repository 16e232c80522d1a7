// Unpacking an image archive into a rootfs, for imageRootfs('busybox.tar').
//
// Once per image: the rootfs is <cacheRoot>/@images/<hex>/rootfs, named by the
// digest the plan was built with, so later runs take it as it is. It is
// unpacked into <hex>.tmp-<pid>-XXXXXX beside it and moved into place by one
// rename(2): a reader never sees half a rootfs, and a process that loses the
// race to another drops its own copy and takes the winner's. A failure removes
// the temp dir, so nothing is left.
//
// Layers are applied in order, by the OCI image-spec rules: `.wh.<name>`
// deletes <name> from the layers below, `.wh..wh..opq` empties its directory
// of what the layers below put there; neither touches its own layer's entries
// (so a layer's whiteouts are applied before its entries are written), and
// neither is written.
//
// Paths are the danger (runc's and docker's CVEs came from joined strings):
// each layer is read twice. The first pass checks the blob's digest and reads
// the headers; every name is checked against the tree as it will be before
// anything of the layer is written: no absolute names, no '..', no entry
// written through a symlink (from this layer or one below), no hard link out
// of the root. The second pass writes, checking that each entry is the one
// the first pass saw (the file could change in between), and walks every path
// a component at a time with lstat, never following a symlink.
//
// The cache is root's alone: @images is 0700, as docker's and containerd's
// image trees are, because an image's setuid-root binaries keep their bits
// (a container may need them) and no other user may reach them to run one.
// Device nodes are never made (as rootless runc and docker do without
// CAP_MKNOD): a `b 254:0 0666` entry would be a world-writable disk on the
// host; a container's devices come from its plan. Each unpack that skipped
// some warns once, naming them.

import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import { type ImageInfo, type ImageLayer, layerStream, readImage } from '../../image/archive.ts';
import { CtcError } from '../../common/error.ts';
import { cachedRootfs, digestHex, imagesDir } from '../../image/cache.ts';
import { isAlive } from '../container/proc.ts';

export async function unpackImage(
  archive: string,
  opts: { cacheRoot: string; digest: string; progress?: NodeJS.WriteStream },
): Promise<string> {
  const hex = digestHex(opts.digest);
  if (!hex)
    throw new CtcError('CT_IMAGE_DIGEST', `${archive}: the plan names the image ${JSON.stringify(opts.digest)}, not sha256:<64 hex>`);
  const images = imagesDir(resolve(opts.cacheRoot));
  const final = cachedRootfs(resolve(opts.cacheRoot), opts.digest);
  if (isDir(final)) return final;
  const image = await readImage(archive);
  if (image.digest !== opts.digest) {
    throw new CtcError(
      'CT_IMAGE_DIGEST',
      `${archive} changed since the plan was built: it holds the image ${image.digest}, the plan names ${opts.digest}`,
      { hint: 'build the plan again' },
    );
  }
  const bar = progressBar(opts.progress, `unpacking ${basename(archive)}`, 2 * image.layers.reduce((n, l) => n + l.size, 0));
  let tmp: string | undefined;
  try {
    tmp = tempRoot(images, hex);
    const devices = await applyLayers(archive, image, join(tmp, 'rootfs'), bar);
    const published = publish(tmp, join(images, hex), final);
    bar.done();
    warnDevices(archive, devices);
    return published;
  } catch (e) {
    // rm never follows symlinks: a link in the half-made tree to /etc removes the link
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    throw asCtcError(archive, e);
  } finally {
    bar.done();
  }
}

function tempRoot(images: string, hex: string): string {
  mkdirSync(images, { recursive: true, mode: 0o700 });
  chmodSync(images, 0o700); // a cache made by an older ctc was 0755
  removeAbandoned(images, hex);
  const tmp = mkdtempSync(join(images, `${hex}.tmp-${process.pid}-`));
  // mkdtemp makes 0700; below the 0700 cache, the image's own modes hold (a container's users pass through)
  chmodSync(tmp, 0o755);
  mkdirSync(join(tmp, 'rootfs'));
  chmodSync(join(tmp, 'rootfs'), 0o755);
  return tmp;
}

/** Temp dirs of this image whose unpacking process is gone (killed halfway): nothing will finish them. */
function removeAbandoned(images: string, hex: string): void {
  for (const name of readdirSync(images)) {
    const pid = Number(new RegExp(`^${hex}\\.tmp-(\\d+)-`).exec(name)?.[1]);
    if (pid && !isAlive(pid)) rmSync(join(images, name), { recursive: true, force: true });
  }
}

function warnDevices(archive: string, names: string[]): void {
  if (!names.length) return;
  const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? ', …' : '');
  process.stderr.write(
    `ctc: warning: ${archive}: ${names.length} device node${names.length === 1 ? '' : 's'} (${shown}) not made: an image never puts devices on the host; the container gets its devices from its plan\n`,
  );
}

function publish(tmp: string, dir: string, final: string): string {
  try {
    renameSync(tmp, dir);
  } catch (e) {
    // rename(2) onto a non-empty directory fails: another process won; use theirs
    if (!isDir(final)) throw e;
    rmSync(tmp, { recursive: true, force: true });
  }
  return final;
}

function asCtcError(archive: string, e: unknown): CtcError {
  if (e instanceof CtcError) return e;
  const err = e as NodeJS.ErrnoException;
  if (err.code?.startsWith('Z_')) return new CtcError('CT_IMAGE_FORMAT', `${archive}: a layer is not valid gzip (${err.message})`);
  return new CtcError('CT_WRITE', `${archive}: unpacking failed: ${err.message}`, {
    errno: /^E[A-Z]+$/.test(err.code ?? '') ? err.code : undefined,
  });
}

const isDir = (path: string) => kindAt(path) === 'dir';

// ---- layers -----------------------------------------------------------------

/** What a pass needs to know: where it writes, and what to name in messages. */
interface Ctx {
  archive: string;
  layer: ImageLayer;
  root: string;
}

type Kind = 'dir' | 'file' | 'symlink' | 'other' | 'none';

/** One tar entry, from the first pass. */
interface Entry {
  /** as in the tar, for messages and to match the second pass */
  name: string;
  /** the path's components below the root; for a whiteout, the path it removes or empties */
  parts: string[];
  type: string;
  whiteout?: 'file' | 'opaque';
  /** not written: aufs bookkeeping, or a type ctc does not make */
  skip?: boolean;
  /** a character or block device: never made, counted for the warning */
  device?: boolean;
  linkpath?: string;
  /** a hard link's target */
  link?: string[];
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime?: Date;
}

/** Applies the layers; returns the names of the device entries left out. */
async function applyLayers(archive: string, image: ImageInfo, root: string, bar: Progress): Promise<string[]> {
  const devices: string[] = [];
  for (const layer of image.layers) {
    const ctx = { archive, layer, root };
    const entries = await scanLayer(ctx, bar);
    checkLayer(ctx, entries);
    for (const e of entries) if (e.whiteout) applyWhiteout(ctx, e);
    await writeLayer(ctx, entries, bar);
    devices.push(...entries.filter((e) => e.device).map((e) => e.name));
  }
  return devices;
}

async function scanLayer(ctx: Ctx, bar: Progress): Promise<Entry[]> {
  const entries: Entry[] = [];
  await readTar(layerStream(ctx.archive, ctx.layer, bar.add), (re) => {
    entries.push(entryOf(ctx, re));
    re.resume();
  });
  return entries;
}

const OPAQUE = '.wh..wh..opq';
const WRITTEN = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link', 'FIFO']);

function entryOf(ctx: Ctx, re: ReadEntry): Entry {
  const parts = pathParts(ctx, re.path, re.path);
  const e: Entry = {
    name: re.path,
    parts,
    type: re.type,
    linkpath: re.linkpath,
    size: re.size,
    mode: re.mode ?? 0o644,
    uid: re.uid ?? 0,
    gid: re.gid ?? 0,
    mtime: re.mtime,
  };
  const last = parts.at(-1) ?? '';
  if (last === OPAQUE) return { ...e, parts: parts.slice(0, -1), whiteout: 'opaque' };
  // .wh..wh.plnk, .wh..wh.aufs: aufs's own bookkeeping, never content
  if (last.startsWith('.wh..wh.')) return { ...e, skip: true };
  if (last.startsWith('.wh.'))
    return { ...e, parts: [...parts.slice(0, -1), whiteoutTarget(ctx, e.name, last.slice(4))], whiteout: 'file' };
  if (re.type === 'Link') return { ...e, link: pathParts(ctx, e.name, re.linkpath ?? '') };
  if (/Device$/.test(re.type)) return { ...e, skip: true, device: true };
  // GNU dump dirs, sparse files and other rarities are not in image layers
  return WRITTEN.has(re.type) ? e : { ...e, skip: true };
}

function whiteoutTarget(ctx: Ctx, name: string, target: string): string {
  if (target === '..') throw escape(ctx, name, "whites out '..'");
  if (target === '' || target === '.') throw badEntry(ctx, name, 'whites out nothing');
  return target;
}

/** A name's components below the root; absolute names and '..' are refused, not cleaned. */
function pathParts(ctx: Ctx, name: string, path: string): string[] {
  const what = path === name ? 'is' : `links to ${JSON.stringify(path)}, which is`;
  if (path.startsWith('/')) throw escape(ctx, name, `${what} an absolute path`);
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw escape(ctx, name, `${what} a path with a '..' component`);
  return parts;
}

const escape = (ctx: Ctx, name: string, why: string) =>
  new CtcError(
    'CT_IMAGE_ESCAPE',
    `${ctx.archive}: layer ${ctx.layer.digest}: entry ${JSON.stringify(name)} ${why}: it would land outside the rootfs`,
  );

const badEntry = (ctx: Ctx, name: string, why: string) =>
  new CtcError('CT_IMAGE_FORMAT', `${ctx.archive}: layer ${ctx.layer.digest}: entry ${JSON.stringify(name)} ${why}`);

// ---- the first pass: names checked against the tree as it will be ------------

function checkLayer(ctx: Ctx, entries: Entry[]): void {
  const view = new View(ctx);
  for (const e of entries) if (e.whiteout) view.whiteout(e);
  for (const e of entries) if (!e.whiteout && !e.skip) view.add(e);
}

/**
 * The tree as this layer's entries will find it: the layer's own entries so
 * far, else what the layers below left (read with lstat, only below real
 * directories) less what this layer's whiteouts remove.
 */
class View {
  private readonly layer = new Map<string, Kind>();
  /** removed from below: whited out, or replaced by a non-directory of this layer */
  private readonly removed = new Set<string>();
  /** directories whose contents below are hidden */
  private readonly opaque = new Set<string>();
  private readonly lstats = new Map<string, Kind>();

  constructor(private readonly ctx: Ctx) {}

  whiteout(e: Entry): void {
    this.checkParents(e, e.whiteout === 'opaque' ? [...e.parts, OPAQUE] : e.parts);
    (e.whiteout === 'opaque' ? this.opaque : this.removed).add(key(e.parts));
  }

  add(e: Entry): void {
    this.checkParents(e, e.parts);
    let kind: Kind = e.type === 'Directory' ? 'dir' : e.type === 'SymbolicLink' ? 'symlink' : /File$/.test(e.type) ? 'file' : 'other';
    if (e.parts.length === 0 && kind !== 'dir') throw badEntry(this.ctx, e.name, 'makes the root a non-directory');
    if (e.link) kind = this.linkTarget(e, e.link);
    if (kind !== 'dir' && this.kind(e.parts) === 'dir') this.replaceDir(key(e.parts));
    this.layer.set(key(e.parts), kind);
  }

  /** Every directory above the entry must be a directory (or not exist yet): never a symlink. */
  private checkParents(e: Entry, parts: string[]): void {
    for (let i = 1; i < parts.length; i++) {
      const kind = this.kind(parts.slice(0, i));
      const at = JSON.stringify(key(parts.slice(0, i)));
      if (kind === 'symlink') throw escape(this.ctx, e.name, `would be written through the symlink ${at}`);
      if (kind !== 'dir' && kind !== 'none') throw badEntry(this.ctx, e.name, `is under ${at}, which is not a directory`);
    }
  }

  private linkTarget(e: Entry, target: string[]): Kind {
    this.checkParents(e, target);
    const kind = this.kind(target);
    if (kind === 'none' || kind === 'dir')
      throw badEntry(
        this.ctx,
        e.name,
        `is a hard link to ${JSON.stringify(key(target))}, which is ${kind === 'dir' ? 'a directory' : 'not there'}`,
      );
    return kind;
  }

  /** A non-directory replaces a directory: its contents go, below and in this layer. */
  private replaceDir(k: string): void {
    this.removed.add(k);
    for (const other of this.layer.keys()) if (other.startsWith(`${k}/`)) this.layer.delete(other);
  }

  kind(parts: string[]): Kind {
    return this.layer.get(key(parts)) ?? this.below(parts);
  }

  private below(parts: string[]): Kind {
    if (parts.length === 0) return 'dir';
    if (this.hidden(parts) || this.below(parts.slice(0, -1)) !== 'dir') return 'none';
    const k = key(parts);
    if (!this.lstats.has(k)) this.lstats.set(k, kindAt(join(this.ctx.root, ...parts)));
    return this.lstats.get(k)!;
  }

  private hidden(parts: string[]): boolean {
    for (let i = 0; i <= parts.length; i++) {
      const k = key(parts.slice(0, i));
      if (this.removed.has(k) || (i < parts.length && this.opaque.has(k))) return true;
    }
    return false;
  }
}

const key = (parts: string[]) => parts.join('/');

function kindAt(path: string): Kind {
  try {
    const st = lstatSync(path);
    return st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other';
  } catch {
    return 'none';
  }
}

// ---- the second pass: writing -------------------------------------------------

/**
 * The entry's path, its parent directories made (0755, root's) where
 * missing. Walked a component at a time with lstat: a symlink on the way is
 * refused, so nothing is written through one even if the tree is not what
 * the first pass saw. With make false, undefined when a parent is missing.
 */
function place(ctx: Ctx, e: Entry, parts: string[], make = true): string | undefined {
  let dir = ctx.root;
  for (const part of parts.slice(0, -1)) {
    dir = join(dir, part);
    const kind = kindAt(dir);
    if (kind === 'symlink') throw escape(ctx, e.name, `would be written through the symlink ${JSON.stringify(dir)}`);
    if (kind === 'none' && !make) return undefined;
    if (kind === 'none') {
      mkdirSync(dir);
      chmodSync(dir, 0o755);
    } else if (kind !== 'dir') throw badEntry(ctx, e.name, `is under ${JSON.stringify(dir)}, which is not a directory`);
  }
  return parts.length ? join(dir, parts.at(-1)!) : ctx.root;
}

function applyWhiteout(ctx: Ctx, e: Entry): void {
  const path = place(ctx, e, e.parts, false);
  if (!path) return;
  if (e.whiteout === 'file') return rmSync(path, { recursive: true, force: true });
  if (kindAt(path) !== 'dir') return;
  for (const child of readdirSync(path)) rmSync(join(path, child), { recursive: true, force: true });
}

async function writeLayer(ctx: Ctx, entries: Entry[], bar: Progress): Promise<void> {
  const dirs: Entry[] = [];
  let i = 0;
  let fd: number | undefined;
  try {
    await readTar(layerStream(ctx.archive, ctx.layer, bar.add), (re, guard) => {
      const e = entries[i++];
      if (!e || !sameEntry(e, re)) throw changed(ctx);
      if (e.whiteout || e.skip) return void re.resume();
      if (e.type === 'Directory') dirs.push(e);
      fd = writeEntry(ctx, e);
      if (fd === undefined) return void re.resume();
      const file = fd;
      re.on(
        'end',
        guard(() => {
          fd = undefined;
          finishFile(file, e);
        }),
      );
      re.on(
        'data',
        guard((chunk: Buffer) => writeAll(file, chunk)),
      );
    });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (i !== entries.length) throw changed(ctx);
  // last: writing a directory's entries changed its mtime
  for (const d of dirs.reverse()) {
    const path = place(ctx, d, d.parts, false);
    if (d.mtime && path && kindAt(path) === 'dir') utimesSync(path, d.mtime, d.mtime);
  }
}

const sameEntry = (e: Entry, re: ReadEntry) =>
  e.name === re.path && e.type === re.type && e.size === re.size && (e.linkpath ?? '') === (re.linkpath ?? '');

const changed = (ctx: Ctx) =>
  new CtcError('CT_IMAGE_DIGEST', `${ctx.archive}: layer ${ctx.layer.digest} changed while it was being unpacked`);

/** Makes the entry; for a regular file, returns the open fd its data goes to. */
function writeEntry(ctx: Ctx, e: Entry): number | undefined {
  const path = place(ctx, e, e.parts)!;
  if (e.type === 'Directory') return void makeDir(path, e);
  const target = e.link && place(ctx, e, e.link, false);
  if (e.link && !target) throw badEntry(ctx, e.name, `is a hard link to ${JSON.stringify(key(e.link))}, which is not there`);
  if (target === path) return undefined;
  // a later layer may put a file where a directory was, and the reverse
  rmSync(path, { recursive: true, force: true });
  // link(2) does not follow a symlink it links to: the new name is that symlink
  if (target) return void linkSync(target, path);
  if (e.type === 'SymbolicLink') {
    symlinkSync(e.linkpath ?? '', path);
    lchownSync(path, e.uid, e.gid);
    if (e.mtime) lutimesSync(path, e.mtime, e.mtime);
    return undefined;
  }
  if (e.type === 'FIFO') return void makeFifo(path, e);
  return openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
}

function makeDir(path: string, e: Entry): void {
  if (kindAt(path) !== 'dir') {
    rmSync(path, { recursive: true, force: true });
    mkdirSync(path);
  }
  own(path, e);
}

/** Owner before mode: chown clears the setuid and setgid bits. */
function own(path: string, e: Entry): void {
  lchownSync(path, e.uid, e.gid);
  chmodSync(path, e.mode);
  if (e.mtime && e.type !== 'Directory') utimesSync(path, e.mtime, e.mtime);
}

function finishFile(fd: number, e: Entry): void {
  fchownSync(fd, e.uid, e.gid);
  fchmodSync(fd, e.mode);
  if (e.mtime) futimesSync(fd, e.mtime, e.mtime);
  closeSync(fd);
}

function writeAll(fd: number, chunk: Buffer): void {
  for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at);
}

/** Node has no mkfifo(3): coreutils' mknod makes the FIFO (device nodes are never made, see the top). */
function makeFifo(path: string, e: Entry): void {
  execFileSync('mknod', ['--', path, 'p'], { stdio: 'ignore' });
  own(path, e);
}

// ---- tar streams ----------------------------------------------------------------

type Guard = <A extends unknown[]>(fn: (...a: A) => void) => (...a: A) => void;

/**
 * Feeds a layer's tar to the tar package's parser, one entry at a time.
 * Resolves when the stream has ended (so its digest was checked) and every
 * entry was handled. The first error (the parser's, a handler's) stops the
 * parsing and writing, but the rest of the blob is still read: a blob that
 * does not match its digest is a CT_IMAGE_DIGEST, whatever its bytes broke.
 * guard wraps a handler the entry calls later (its data, its end), so its
 * error goes the same way.
 */
function readTar(stream: Readable, onEntry: (re: ReadEntry, guard: Guard) => void): Promise<void> {
  return new Promise((resolveRead, reject) => {
    let failed = false;
    let sawEof = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      // the parser may still be at work after the stream's end
      if (stream.readableEnded) return reject(err);
      stream.on('end', () => reject(err));
      stream.resume();
    };
    const guard: Guard =
      (fn) =>
      (...a) => {
        try {
          if (!failed) fn(...a);
        } catch (err) {
          fail(err);
        }
      };
    const parser = new Parser({
      onReadEntry: (re) => (failed ? re.resume() : guard(() => onEntry(re, guard))()),
      // an empty layer (two zero blocks) is a valid tar the parser calls unrecognized
      onwarn: (code, message) =>
        code === 'TAR_BAD_ARCHIVE' && sawEof && /Unrecognized/.test(message)
          ? undefined
          : fail(new CtcError('CT_IMAGE_FORMAT', `a layer is not a valid tar: ${message}`)),
    });
    parser.on('eof', () => (sawEof = true));
    parser.on('error', fail);
    parser.on('end', () => failed || resolveRead());
    stream.on('error', (err) => {
      failed = true;
      reject(err);
    });
    stream.on(
      'end',
      guard(() => parser.end()),
    );
    stream.on(
      'data',
      guard((chunk: Buffer) => {
        // after a failure the rest of the blob is read, not parsed: no waiting for the parser
        if (parser.write(chunk) || failed) return;
        stream.pause();
        parser.once('drain', () => stream.resume());
      }),
    );
  });
}

// ---- progress -------------------------------------------------------------------

interface Progress {
  add: (bytes: number) => void;
  done: () => void;
}

/** One line, redrawn with \r when the percentage moves, cleared at the end; nothing when out is not a terminal. */
function progressBar(out: NodeJS.WriteStream | undefined, label: string, total: number): Progress {
  if (!out?.isTTY) return { add: () => {}, done: () => {} };
  let seen = 0;
  let shown = -1;
  const mb = (n: number) => `${(n / 2 / 1e6).toFixed(1)} MB`;
  return {
    add(bytes) {
      seen += bytes;
      const pct = total ? Math.min(100, Math.floor((seen * 100) / total)) : 100;
      if (pct === shown) return;
      shown = pct;
      const bar = '#'.repeat(Math.round(pct / 5)).padEnd(20, '.');
      out.write(`\r${label} [${bar}] ${pct}% of ${mb(total)}`);
    },
    done: () => {
      if (shown >= 0) out.write('\r\x1b[K');
      shown = -1;
    },
  };
}
