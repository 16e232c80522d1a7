// Writes an image archive of the static busybox (Debian's busybox-static),
// for examples/image.ct.ts and the tests:
//
//   node scripts/busybox-image.mjs examples/busybox.tar [oci|docker]
//   node scripts/busybox-image.mjs --rootfs DIR     (the same root, unpacked: for dir.ct.ts)
//
// Two layers: /bin/busybox with a symlink per applet and the empty top-level
// directories, then /etc/passwd and /etc/group. Every entry has a fixed mtime
// and owner and the entries are sorted, so the same busybox binary always
// gives the same bytes and the same digest.
//
// The tar and image writers are exported for the unit tests, which also need
// entries that no well-behaved tar tool writes ('../x', '/abs').

import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Header, Pax } from 'tar';

export const BUSYBOX = '/usr/bin/busybox';
/** 2000-01-01: a fixed mtime, so the archive's bytes do not depend on when it was written. */
export const MTIME = 946684800;

const TYPES = {
  file: 'File',
  dir: 'Directory',
  symlink: 'SymbolicLink',
  link: 'Link',
  fifo: 'FIFO',
  char: 'CharacterDevice',
  block: 'BlockDevice',
};

/** One tar entry: names are written as given (no ./, no / stripped, no checks). */
function entryBytes(e) {
  const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
  const type = e.type ?? 'file';
  const header = new Header({
    path: e.name,
    type: TYPES[type],
    mode: e.mode ?? (type === 'dir' ? 0o755 : 0o644),
    uid: e.uid ?? 0,
    gid: e.gid ?? 0,
    size: data.length,
    mtime: new Date((e.mtime ?? MTIME) * 1000),
    linkpath: e.linkname ?? '',
    uname: '',
    gname: '',
    devmaj: e.major ?? 0,
    devmin: e.minor ?? 0,
  });
  const block = Buffer.alloc(512);
  // a name or link over ustar's lengths goes in a pax record before the header
  const pax = header.encode(block) ? new Pax({ path: e.name, linkpath: e.linkname, mtime: header.mtime }).encode() : Buffer.alloc(0);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([pax, block, data, pad]);
}

/** A tar archive of these entries, in this order, with the two zero blocks that end it. */
export function tarFile(entries) {
  return Buffer.concat([...entries.map(entryBytes), Buffer.alloc(1024)]);
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const json = (value) => Buffer.from(JSON.stringify(value));

/**
 * The members of an image archive: layers are tar bytes (gzip: compressed
 * with media type …tar+gzip in OCI; docker save writes them as they are).
 * Returns { files: [{ name, data }] sorted by name, digest } where digest is
 * what readImage reports (OCI: the manifest's; docker: the config's).
 */
export function imageFiles({ format = 'oci', layers, gzip = false, config = {} }) {
  const diffIds = layers.map((t) => `sha256:${sha256(t)}`);
  const cfg = json({ architecture: 'amd64', os: 'linux', config: {}, ...config, rootfs: { type: 'layers', diff_ids: diffIds } });
  if (format === 'docker') return dockerFiles(layers, cfg);
  const blobs = layers.map((t) => (gzip ? gzipSync(t) : t));
  const layerType = `application/vnd.oci.image.layer.v1.tar${gzip ? '+gzip' : ''}`;
  const desc = (mediaType, bytes) => ({ mediaType, digest: `sha256:${sha256(bytes)}`, size: bytes.length });
  const manifest = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: desc('application/vnd.oci.image.config.v1+json', cfg),
    layers: blobs.map((b) => desc(layerType, b)),
  });
  const top = { ...desc('application/vnd.oci.image.manifest.v1+json', manifest), platform: { architecture: 'amd64', os: 'linux' } };
  const files = [cfg, manifest, ...blobs].map((data) => ({ name: `blobs/sha256/${sha256(data)}`, data }));
  files.push({
    name: 'index.json',
    data: json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [top] }),
  });
  files.push({ name: 'oci-layout', data: json({ imageLayoutVersion: '1.0.0' }) });
  return { files: sorted(files), digest: top.digest };
}

/** docker save's legacy layout: <config hex>.json, <id>/layer.tar, manifest.json. */
function dockerFiles(layers, cfg) {
  const id = sha256(cfg);
  const names = layers.map((t) => `${sha256(t)}/layer.tar`);
  const files = layers.map((data, i) => ({ name: names[i], data }));
  files.push({ name: `${id}.json`, data: cfg });
  files.push({ name: 'manifest.json', data: json([{ Config: `${id}.json`, RepoTags: ['busybox:latest'], Layers: names }]) });
  return { files: sorted(files), digest: `sha256:${id}` };
}

const sorted = (files) => [...new Map(files.map((f) => [f.name, f])).values()].sort((a, b) => (a.name < b.name ? -1 : 1));

/** The image as one tar (the directories of its members first), or, with dir, as an OCI layout directory. */
export function writeImage(target, opts, { dir = false } = {}) {
  const { files, digest } = imageFiles(opts);
  if (dir) {
    for (const f of files) {
      mkdirSync(dirname(join(target, f.name)), { recursive: true });
      writeFileSync(join(target, f.name), f.data);
    }
    return digest;
  }
  const dirs = [...new Set(files.flatMap((f) => parents(f.name)))].sort().map((name) => ({ name: `${name}/`, type: 'dir' }));
  writeFileSync(target, tarFile([...dirs, ...files.map((f) => ({ name: f.name, data: f.data }))]));
  return digest;
}

const parents = (name) =>
  name
    .split('/')
    .slice(0, -1)
    .map((_, i, parts) => parts.slice(0, i + 1).join('/'));

/** The two layers of the busybox image, as tar bytes. */
export function busyboxLayers() {
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .filter((a) => a && a !== 'busybox');
  const base = [
    { name: 'bin/', type: 'dir' },
    { name: 'bin/busybox', mode: 0o755, data: readFileSync(BUSYBOX) },
    ...applets.map((a) => ({ name: `bin/${a}`, type: 'symlink', mode: 0o777, linkname: 'busybox' })),
    ...['dev', 'etc', 'proc', 'run', 'sys'].map((d) => ({ name: `${d}/`, type: 'dir' })),
    { name: 'tmp/', type: 'dir', mode: 0o1777 },
  ];
  const etc = [
    { name: 'etc/group', data: 'root:x:0:\nnogroup:x:65534:\n' },
    { name: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' },
  ];
  const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return [tarFile(base.sort(byName)), tarFile(etc)];
}

/** Writes the busybox image archive to file; returns its digest. */
export function busyboxImage(file, format = 'oci') {
  return writeImage(file, { format, layers: busyboxLayers(), config: { config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] } } });
}

/** The same root as a plain directory, for dirRootfs(): the layers extracted in order by the system's tar (as root: owners kept). */
export function busyboxRootfs(dir) {
  mkdirSync(dir, { recursive: true });
  for (const layer of busyboxLayers()) execFileSync('tar', ['-x', '-p', '-C', dir, '-f', '-'], { input: layer });
  return dir;
}

// run as a script (not when bundled into another module, whose url this then is)
const self = fileURLToPath(import.meta.url);
if (self.endsWith('busybox-image.mjs') && process.argv[1] && resolve(process.argv[1]) === self) {
  const [file, format = 'oci'] = process.argv.slice(2);
  if (file === '--rootfs' && format !== 'oci') {
    console.log(`${busyboxRootfs(format)}: a busybox root`);
  } else if (!file || !['oci', 'docker'].includes(format)) {
    console.error('usage: node scripts/busybox-image.mjs FILE.tar [oci|docker]\n       node scripts/busybox-image.mjs --rootfs DIR');
    process.exit(2);
  } else {
    console.log(`${file}: ${busyboxImage(file, format)}`);
  }
}
