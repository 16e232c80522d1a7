// Image archives, as `imageRootfs('busybox.tar')` names them: an OCI image
// layout (a directory, or the same tarred: oci-layout, index.json,
// blobs/sha256/<hex>) or a `docker save` tar (manifest.json naming a config
// and layer tars). readImage reads the small JSON documents, checking each
// against its digest, and says where every layer's bytes are; layerStream
// reads a layer, checking its digest as the bytes pass.
//
// A tarred image is not extracted: it is indexed (member name -> byte range)
// by reading only its 512-byte headers and seeking over the bodies, so a
// multi-GB archive costs a few reads to open and a layer is streamed straight
// from the file. The headers are decoded by the tar package's Header and Pax.

import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { pipeline, Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Header, Pax, type HeaderData } from 'tar';
import { CtcError } from '../common/error.ts';

/** Where a blob's bytes are: a byte range of a file (a member of the outer tar, or a whole blob file). */
export interface BlobRef {
  file: string;
  offset: number;
  size: number;
}

export interface ImageLayer {
  /** sha256:<hex> of the blob, checked as it is read */
  digest: string;
  compression: 'none' | 'gzip';
  /** bytes of the blob (compressed, if it is) */
  size: number;
  /** sha256 of the uncompressed tar (the config's rootfs.diff_ids), checked as it is read */
  diffId?: string;
  blob: BlobRef;
}

export interface ImageInfo {
  format: 'oci' | 'docker';
  /** OCI: the manifest blob's digest; docker: the config blob's digest (the image id) */
  digest: string;
  layers: ImageLayer[];
  /** the image config JSON, parsed */
  config: unknown;
}

/** The members of an archive, by name, and the archive's path for messages. */
interface Store {
  path: string;
  find(name: string): BlobRef | undefined;
}

const DIGEST = /^sha256:([0-9a-f]{64})$/;
/** Index, manifest and config documents are small; a bigger one is not an image. */
const MAX_JSON = 16 << 20;
/** Nested indexes (an index naming an index) deeper than this are refused. */
const MAX_DEPTH = 4;

const formatError = (store: { path: string }, message: string) => new CtcError('CT_IMAGE_FORMAT', `${store.path}: ${message}`);

/**
 * `confine`: the real path of a file of a directory layout, or a refusal (the
 * compiler's: the project's files only, compiler/confine.ts). A tar's members
 * are byte ranges of the one file, already confined by the caller.
 */
export async function readImage(path: string, { confine }: { confine?: (file: string) => string } = {}): Promise<ImageInfo> {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new CtcError('CT_IMAGE_FORMAT', `${path}: cannot read the image archive (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  if (!st.isDirectory() && !st.isFile())
    throw new CtcError('CT_IMAGE_FORMAT', `${path}: not an image archive (neither a directory nor a file)`);
  const store = st.isDirectory() ? dirStore(path, confine) : tarStore(path);
  if (store.find('oci-layout') && store.find('index.json')) return readOci(store);
  if (store.find('manifest.json')) return readDocker(store);
  throw formatError(
    store,
    'not an image archive: neither an OCI image layout (oci-layout, index.json) nor a docker save archive (manifest.json)',
  );
}

// ---- stores -----------------------------------------------------------------

function dirStore(dir: string, confine?: (file: string) => string): Store {
  return {
    path: dir,
    find(name) {
      if (confine && !existsSync(join(dir, name))) return undefined;
      const file = confine ? confine(join(dir, name)) : join(dir, name);
      try {
        const st = statSync(file);
        return st.isFile() ? { file, offset: 0, size: st.size } : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

type Member = BlobRef | { link: string };

function tarStore(file: string): Store {
  const members = tarIndex(file);
  const find = (name: string, hops = 0): BlobRef | undefined => {
    const m = members.get(clean(name));
    // docker save (25+) writes its legacy names as symlinks into blobs/
    if (m && 'link' in m) return hops < 8 ? find(m.link, hops + 1) : undefined;
    return m;
  };
  return { path: file, find: (name) => find(name) };
}

/** `./blobs//x` and `blobs/x` are one member; a name leaving the archive is none. */
const clean = (name: string) =>
  posix
    .normalize(name)
    .replace(/^(\.\/)+/, '')
    .replace(/\/$/, '');

/**
 * Member name -> byte range, from the headers alone. Pax ('x', 'g') and GNU
 * long-name ('L', 'K') records describe the member after them, as the tar
 * package's own parser applies them.
 */
function tarIndex(file: string): Map<string, Member> {
  const fd = openSync(file, 'r');
  try {
    const members = new Map<string, Member>();
    const end = statSync(file).size;
    let ex: HeaderData | undefined;
    let gex: HeaderData | undefined;
    for (let at = 0; at + 512 <= end; ) {
      const h = new Header(readAt(fd, at, 512), 0, ex, gex);
      if (h.nullBlock) break;
      if (!h.cksumValid || !h.path) throw formatError({ path: file }, `not a tar archive (bad header at byte ${at})`);
      const size = h.size ?? 0;
      const body = at + 512;
      if (body + size > end) throw formatError({ path: file }, `truncated: ${h.path} needs ${size} bytes at byte ${body}`);
      const meta =
        h.type === 'ExtendedHeader' ||
        h.type === 'GlobalExtendedHeader' ||
        h.type === 'NextFileHasLongPath' ||
        h.type === 'NextFileHasLongLinkpath';
      if (meta) {
        const text = readAt(fd, body, size).toString('utf8');
        if (h.type === 'ExtendedHeader') ex = Pax.parse(text, ex, false);
        else if (h.type === 'GlobalExtendedHeader') gex = Pax.parse(text, gex, true);
        else ex = { ...ex, [h.type === 'NextFileHasLongPath' ? 'path' : 'linkpath']: text.replace(/\0.*/s, '') };
      } else {
        ex = undefined;
        const member = memberOf(h, body, file);
        if (member) members.set(clean(h.path), member);
      }
      at = body + 512 * Math.ceil(size / 512);
    }
    return members;
  } finally {
    closeSync(fd);
  }
}

function memberOf(h: Header, offset: number, file: string): Member | undefined {
  if (h.type === 'File' || h.type === 'OldFile' || h.type === 'ContiguousFile') return { file, offset, size: h.size ?? 0 };
  // a hard link names an archive path; a symlink is relative to its own directory
  if (h.type === 'Link' && h.linkpath) return { link: h.linkpath };
  if (h.type === 'SymbolicLink' && h.linkpath) return { link: posix.join(posix.dirname(clean(h.path ?? '')), h.linkpath) };
  return undefined;
}

function readAt(fd: number, offset: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  let got = 0;
  while (got < size) {
    const n = readSync(fd, buf, got, size - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

// ---- JSON documents ---------------------------------------------------------

/** A whole small member, checked against its digest when there is one. */
function readMember(store: Store, name: string, digest?: string): Buffer {
  const ref = store.find(name);
  if (!ref) throw formatError(store, `${name} is missing`);
  if (ref.size > MAX_JSON) throw formatError(store, `${name} is ${ref.size} bytes, more than an image document has`);
  const fd = openSync(ref.file, 'r');
  let bytes: Buffer;
  try {
    bytes = readAt(fd, ref.offset, ref.size);
  } finally {
    closeSync(fd);
  }
  if (digest) checkDigest(store, name, sha256(bytes), digest);
  return bytes;
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function checkDigest(store: Store, what: string, got: string, want: string): void {
  if (got !== want) throw new CtcError('CT_IMAGE_DIGEST', `${store.path}: ${what} has sha256 ${got}, not its digest ${want}`);
}

// biome-ignore lint/suspicious/noExplicitAny: an image's JSON, of any shape until its reader checks the fields it uses
function parseJson(store: Store, name: string, bytes: Buffer): any {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    // V8's message quotes the text: the position alone, never the bytes of a file that may not be the image's
    const at = /at position \d+/.exec((e as Error).message)?.[0];
    throw formatError(store, `${name} is not valid JSON${at ? ` (${at})` : ''}`);
  }
}

const readJson = (store: Store, name: string, digest?: string) => parseJson(store, name, readMember(store, name, digest));

// ---- OCI image layout -------------------------------------------------------

interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: { os?: string; architecture?: string };
}

const blobName = (store: Store, d: Descriptor) => {
  const m = typeof d?.digest === 'string' ? DIGEST.exec(d.digest) : null;
  if (!m) throw formatError(store, `a descriptor's digest ${JSON.stringify(d?.digest)} is not sha256:<64 hex>`);
  return `blobs/sha256/${m[1]}`;
};

function readOci(store: Store): ImageInfo {
  const manifestDesc = pickManifest(store, readJson(store, 'index.json'), 0);
  const manifest = readJson(store, blobName(store, manifestDesc), manifestDesc.digest);
  if (!manifest?.config || !Array.isArray(manifest.layers))
    throw formatError(store, `manifest ${manifestDesc.digest} has no config or layers`);
  const config = readJson(store, blobName(store, manifest.config), manifest.config.digest);
  const diffIds = diffIdsOf(store, config, manifest.layers.length);
  const layers = manifest.layers.map((d: Descriptor, i: number): ImageLayer => {
    const blob = store.find(blobName(store, d));
    if (!blob) throw formatError(store, `layer ${d.digest} is missing (${blobName(store, d)})`);
    if (typeof d.size === 'number' && d.size !== blob.size)
      throw new CtcError('CT_IMAGE_DIGEST', `${store.path}: layer ${d.digest} is ${blob.size} bytes, its descriptor says ${d.size}`);
    return { digest: d.digest, compression: compressionOf(store, d), size: blob.size, diffId: diffIds?.[i], blob };
  });
  return { format: 'oci', digest: manifestDesc.digest, layers, config };
}

const isIndex = (t?: string) =>
  t === 'application/vnd.oci.image.index.v1+json' || t === 'application/vnd.docker.distribution.manifest.list.v2+json';

/**
 * The image an index names: the only manifest, or else the one for
 * linux/amd64 (what ctc's hosts run, and a fixed choice so a plan's digest
 * does not depend on where it was built). Nested indexes are followed.
 */
// biome-ignore lint/suspicious/noExplicitAny: parsed JSON, checked here
function pickManifest(store: Store, index: any, depth: number): Descriptor {
  const all: Descriptor[] = Array.isArray(index?.manifests) ? index.manifests : [];
  const amd64 = all.filter((d) => d.platform?.os === 'linux' && d.platform?.architecture === 'amd64');
  const picked = all.length === 1 ? all : amd64;
  if (picked.length !== 1)
    throw formatError(store, `the index names ${all.length} manifests and ${amd64.length} for linux/amd64: ctc reads one image`);
  const d = picked[0];
  if (!isIndex(d.mediaType)) return d;
  if (depth >= MAX_DEPTH) throw formatError(store, `indexes nested more than ${MAX_DEPTH} deep`);
  return pickManifest(store, readJson(store, blobName(store, d), d.digest), depth + 1);
}

/** From the layer's media type; zstd needs a decompressor Node 20 does not have. */
function compressionOf(store: Store, d: Descriptor): 'none' | 'gzip' {
  const t = d.mediaType ?? '';
  if (/zstd$/.test(t)) throw formatError(store, `layer ${d.digest} is zstd-compressed (${t}): Node 20 has no zstd`);
  // OCI: …layer.v1.tar, …tar+gzip; docker: …rootfs.diff.tar.gzip
  if (/\.tar[+.]gzip$/.test(t)) return 'gzip';
  if (/\.tar$/.test(t)) return 'none';
  throw formatError(store, `layer ${d.digest} has media type ${JSON.stringify(t)}, not a layer tar`);
}

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON, checked here
function diffIdsOf(store: Store, config: any, count: number): string[] | undefined {
  const ids = config?.rootfs?.diff_ids;
  if (ids === undefined) return undefined;
  if (!Array.isArray(ids) || ids.length !== count || !ids.every((x) => typeof x === 'string' && DIGEST.test(x))) {
    throw formatError(store, `the config's rootfs.diff_ids do not match the ${count} layers`);
  }
  return ids;
}

// ---- docker save ------------------------------------------------------------

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];

function readDocker(store: Store): ImageInfo {
  const list = readJson(store, 'manifest.json');
  if (!Array.isArray(list) || list.length !== 1)
    throw formatError(store, `manifest.json names ${Array.isArray(list) ? list.length : 'no'} images: ctc reads an archive of one`);
  const { Config, Layers } = list[0] ?? {};
  if (typeof Config !== 'string' || !Array.isArray(Layers) || !Layers.every((l) => typeof l === 'string'))
    throw formatError(store, 'manifest.json has no Config or Layers');
  const bytes = readMember(store, Config);
  const digest = sha256(bytes);
  // the image id is the config's digest; a config named by it must match
  const named = /(?:^|\/)([0-9a-f]{64})(?:\.json)?$/.exec(Config);
  if (named) checkDigest(store, Config, digest, `sha256:${named[1]}`);
  const config = parseJson(store, Config, bytes);
  const diffIds = diffIdsOf(store, config, Layers.length);
  const layers = Layers.map((name: string, i: number) => dockerLayer(store, name, diffIds?.[i]));
  return { format: 'docker', digest, layers, config };
}

function dockerLayer(store: Store, name: string, diffId?: string): ImageLayer {
  const blob = store.find(name);
  if (!blob) throw formatError(store, `layer ${name} is missing`);
  const compression = sniff(store, name, blob);
  const named = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(clean(name));
  // legacy <id>/layer.tar names are not digests; docker writes them
  // uncompressed, so the blob's digest is its diff id from the config
  if (!named && (compression !== 'none' || !diffId))
    throw formatError(store, `layer ${name} is neither named by its digest nor an uncompressed tar the config gives a diff id for`);
  return { digest: named ? `sha256:${named[1]}` : diffId!, compression, size: blob.size, diffId, blob };
}

/** docker's manifest.json has no media types: the first bytes tell. */
function sniff(store: Store, name: string, blob: BlobRef): 'none' | 'gzip' {
  const fd = openSync(blob.file, 'r');
  let head: Buffer;
  try {
    head = readAt(fd, blob.offset, Math.min(4, blob.size));
  } finally {
    closeSync(fd);
  }
  const starts = (magic: number[]) => magic.every((b, i) => head[i] === b);
  if (starts(ZSTD)) throw formatError(store, `layer ${name} is zstd-compressed: Node 20 has no zstd`);
  return starts(GZIP) ? 'gzip' : 'none';
}

// ---- reading a layer --------------------------------------------------------

/**
 * The layer's uncompressed tar. The blob's sha256 (and the tar's, when the
 * config gives a diff id) is checked when its last byte has passed: a
 * mismatch is an error on the returned stream before it ends. onBytes
 * counts blob bytes as they are read (for progress).
 */
export function layerStream(archive: string, layer: ImageLayer, onBytes?: (n: number) => void): Readable {
  const { file, offset, size } = layer.blob;
  const raw = size === 0 ? Readable.from([]) : createReadStream(file, { start: offset, end: offset + size - 1 });
  const stages: NodeJS.ReadWriteStream[] = [digestCheck(archive, `layer ${layer.digest}`, layer.digest, onBytes)];
  if (layer.compression === 'gzip') stages.push(createGunzip());
  if (layer.diffId) stages.push(digestCheck(archive, `layer ${layer.digest} uncompressed`, layer.diffId));
  return pipeline(raw, ...(stages as [NodeJS.ReadWriteStream]), () => {}) as unknown as Readable;
}

function digestCheck(archive: string, what: string, want: string, onBytes?: (n: number) => void): Transform {
  const hash = createHash('sha256');
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      onBytes?.(chunk.length);
      done(null, chunk);
    },
    flush(done) {
      const got = `sha256:${hash.digest('hex')}`;
      done(got === want ? null : new CtcError('CT_IMAGE_DIGEST', `${archive}: ${what} has sha256 ${got}, not its digest ${want}`));
    },
  });
}
