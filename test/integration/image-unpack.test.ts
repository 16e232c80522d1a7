// Image archives: read in each format ctc takes (an OCI layout tarred or as a
// directory, a docker save tar, gzip layers), unpacked by the OCI layer rules
// (whiteouts, opaque directories, a file and a directory replacing each
// other, modes, owners, links), and refused, leaving nothing, when an entry
// would land outside the rootfs or a digest does not match. Real files in a
// temp dir; the tar bytes, hostile ones included, come from test/busybox-image.ts.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readImage } from '../../image/archive.ts';
import { CtcError } from '../../common/error.ts';
import { unpackImage } from '../../executor/host/image-unpack.ts';
import { MTIME, busyboxImage, imageFiles, tarFile, writeImage, type ImageOptions, type TarEntry } from '../busybox-image.ts';
import { tempDir } from '../helpers.ts';

const tmp = tempDir('ctc-image-');
test.after(() => tmp.remove());

let n = 0;
/** A fresh directory under the temp dir. */
const fresh = (name: string) => {
  const dir = join(tmp.dir, `${name}-${++n}`);
  mkdirSync(dir);
  return dir;
};

/** An image archive of these layers (tar entries, lowest first); its path, digest and a cache dir of its own. */
function image(layers: TarEntry[][], opts: Omit<ImageOptions, 'layers'> & { dir?: boolean } = {}) {
  const at = fresh('img');
  const file = join(at, opts.dir ? 'layout' : 'image.tar');
  const digest = writeImage(file, { ...opts, layers: layers.map(tarFile) }, { dir: opts.dir });
  return { file, digest, cacheRoot: join(at, 'cache') };
}

const unpack = (img: { file: string; digest: string; cacheRoot: string }) =>
  unpackImage(img.file, { cacheRoot: img.cacheRoot, digest: img.digest });

/** What unpacking left under the cache: [] after a failure. */
const leftInCache = (cacheRoot: string) => (existsSync(join(cacheRoot, '@images')) ? readdirSync(join(cacheRoot, '@images')) : []);

async function rejects(p: Promise<unknown>, code: string, message?: RegExp): Promise<CtcError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, CtcError, String(e));
    assert.is((e as CtcError).code, code, (e as CtcError).message);
    if (message) assert.match((e as CtcError).message, message);
    return e as CtcError;
  }
  assert.unreachable(`expected ${code}, but it succeeded`);
  throw new Error('unreachable');
}

const hello: TarEntry[] = [
  { name: 'etc/', type: 'dir' },
  { name: 'etc/hello', data: 'hello\n' },
];
const read = (root: string, path: string) => readFileSync(join(root, path), 'utf8');

test('an OCI layout tar: the manifest digest, one layer, unpacked', async () => {
  const img = image([hello]);
  const info = await readImage(img.file);
  assert.is(info.format, 'oci');
  assert.is(info.digest, img.digest);
  assert.is(info.layers.length, 1);
  assert.is(info.layers[0].compression, 'none');
  assert.equal((info.config as { os: string }).os, 'linux');
  const root = await unpack(img);
  assert.is(root, join(img.cacheRoot, '@images', img.digest.slice(7), 'rootfs'));
  assert.is(read(root, 'etc/hello'), 'hello\n');
});

test('an OCI layout directory', async () => {
  const img = image([hello], { dir: true });
  assert.ok(statSync(img.file).isDirectory());
  const info = await readImage(img.file);
  assert.is(info.format, 'oci');
  assert.is(info.digest, img.digest);
  assert.is(read(await unpack(img), 'etc/hello'), 'hello\n');
});

test('a docker save tar: the image id (the config digest) is the digest', async () => {
  const img = image([hello, [], [{ name: 'etc/more', data: 'more' }]], { format: 'docker' });
  const info = await readImage(img.file);
  assert.is(info.format, 'docker');
  assert.is(info.digest, img.digest);
  const root = await unpack(img);
  assert.is(read(root, 'etc/hello') + read(root, 'etc/more'), 'hello\nmore');
});

test('gzip layers', async () => {
  const img = image([hello, [{ name: 'etc/two', data: '2' }]], { gzip: true });
  const info = await readImage(img.file);
  assert.equal(
    info.layers.map((l) => l.compression),
    ['gzip', 'gzip'],
  );
  const root = await unpack(img);
  assert.is(read(root, 'etc/hello') + read(root, 'etc/two'), 'hello\n2');
});

test('an index of several images: the linux/amd64 one', async () => {
  const dir = fresh('multi');
  const arm = imageFiles({ layers: [tarFile([{ name: 'arch', data: 'arm64' }])], config: { architecture: 'arm64' } });
  const amd = imageFiles({ layers: [tarFile([{ name: 'arch', data: 'amd64' }])] });
  for (const f of [...arm.files, ...amd.files]) {
    mkdirSync(join(dir, f.name, '..'), { recursive: true });
    writeFileSync(join(dir, f.name), f.data);
  }
  const top = (files: typeof amd.files) => JSON.parse(files.find((f) => f.name === 'index.json')!.data.toString()).manifests[0];
  const armDesc = { ...top(arm.files), platform: { os: 'linux', architecture: 'arm64' } };
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [armDesc, top(amd.files)] }));
  assert.is((await readImage(dir)).digest, amd.digest);
  assert.is(read(await unpackImage(dir, { cacheRoot: join(dir, 'cache'), digest: amd.digest }), 'arch'), 'amd64');
});

test('whiteouts and opaque directories hide the layers below, never their own layer; a file and a directory replace each other', async () => {
  const img = image([
    [
      { name: 'gone', data: 'x' },
      { name: 'kept', data: 'x' },
      { name: 'f', data: 'a file' },
      { name: 'd/', type: 'dir' },
      { name: 'd/in', data: 'x' },
      { name: 'o/', type: 'dir' },
      { name: 'o/lower', data: 'x' },
      { name: 'o/sub/', type: 'dir' },
      { name: 'o/sub/deep', data: 'x' },
    ],
    [
      { name: '.wh.gone' },
      { name: 'o/', type: 'dir' },
      { name: 'o/new', data: 'same layer' },
      { name: 'o/.wh..wh..opq' },
      { name: 'fresh', data: 'same layer' },
      { name: '.wh.fresh' },
    ],
    [
      { name: 'f/', type: 'dir' },
      { name: 'f/inner', data: 'now a dir' },
      { name: 'd', data: 'now a file' },
    ],
  ]);
  const root = await unpack(img);
  assert.not.ok(existsSync(join(root, 'gone')));
  assert.ok(existsSync(join(root, 'kept')));
  assert.equal(readdirSync(join(root, 'o')), ['new'], 'the opaque dir keeps its own layer only');
  assert.is(read(root, 'fresh'), 'same layer', 'a whiteout does not remove its own layer’s entry');
  assert.is(read(root, 'f/inner'), 'now a dir');
  assert.is(read(root, 'd'), 'now a file');
  assert.equal(readdirSync(root).sort(), ['d', 'f', 'fresh', 'kept', 'o'], 'no .wh. file is written');
});

test('modes (setuid, sticky), owners, mtimes, symlinks, hard links, FIFOs and long names are kept', async () => {
  const long = `${'d'.repeat(120)}/${'f'.repeat(120)}`;
  const img = image([
    [
      { name: './', type: 'dir', mode: 0o711 },
      { name: 'bin/', type: 'dir' },
      { name: 'bin/su', mode: 0o4755, uid: 1234, gid: 5678, data: '#!/bin/true\n' },
      { name: 'bin/sh', type: 'symlink', linkname: 'su', uid: 1234, gid: 5678 },
      { name: 'tmp/', type: 'dir', mode: 0o1777 },
      { name: 'dangling', type: 'symlink', linkname: '/nowhere/../at/all' },
    ],
    [
      { name: 'bin/su2', type: 'link', linkname: 'bin/su' },
      { name: 'fifo', type: 'fifo', mode: 0o640 },
      { name: long, data: 'pax' },
    ],
  ]);
  const root = await unpack(img);
  assert.is(statSync(root).mode & 0o7777, 0o711, "the root's own entry");
  assert.ok(lstatSync(join(root, 'fifo')).isFIFO());
  assert.is(lstatSync(join(root, 'fifo')).mode & 0o7777, 0o640);
  assert.is(read(root, long), 'pax');
  const su = statSync(join(root, 'bin/su'));
  assert.is(su.mode & 0o7777, 0o4755);
  assert.equal([su.uid, su.gid], [1234, 5678]);
  assert.is(su.mtimeMs, MTIME * 1000);
  const tmpDir = statSync(join(root, 'tmp'));
  assert.is(tmpDir.mode & 0o7777, 0o1777);
  assert.is(tmpDir.mtimeMs, MTIME * 1000);
  const sh = lstatSync(join(root, 'bin/sh'));
  assert.ok(sh.isSymbolicLink());
  assert.is(readlinkSync(join(root, 'bin/sh')), 'su');
  assert.equal([sh.uid, sh.gid], [1234, 5678]);
  assert.is(readlinkSync(join(root, 'dangling')), '/nowhere/../at/all', 'a symlink may point anywhere; only writing through it is refused');
  assert.is(statSync(join(root, 'bin/su2')).ino, su.ino, 'a hard link across layers');
});

/** An unpack that must fail with CT_IMAGE_ESCAPE and leave no temp or final dir. */
async function escapes(layers: TarEntry[][], message: RegExp) {
  const img = image(layers);
  await rejects(unpack(img), 'CT_IMAGE_ESCAPE', message);
  assert.equal(leftInCache(img.cacheRoot), [], 'nothing left in the cache');
}

test("refused, leaving nothing: '../' names, absolute names, hard links out", async () => {
  await escapes(
    [
      [
        { name: 'ok', data: 'x' },
        { name: '../evil', data: 'x' },
      ],
    ],
    /"\.\.\/evil" is a path with a '\.\.' component/,
  );
  await escapes(
    [
      [
        { name: 'a/', type: 'dir' },
        { name: 'a/../../evil', data: 'x' },
      ],
    ],
    /'\.\.'/,
  );
  await escapes([[{ name: '/etc/evil', data: 'x' }]], /"\/etc\/evil" is an absolute path/);
  await escapes([[{ name: 'h', type: 'link', linkname: '../outside' }]], /"h" links to "\.\.\/outside"/);
  await escapes([[{ name: 'h', type: 'link', linkname: '/etc/passwd' }]], /absolute/);
});

test('refused, leaving nothing: anything written through a symlink, in its own layer or a later one', async () => {
  const outside = fresh('outside');
  writeFileSync(join(outside, 'victim'), 'untouched');
  await escapes(
    [
      [
        { name: 'a', type: 'symlink', linkname: outside },
        { name: 'a/passwd', data: 'x' },
      ],
    ],
    /"a\/passwd" would be written through the symlink "a"/,
  );
  await escapes([[{ name: 'a', type: 'symlink', linkname: '../..' }], [{ name: 'a/x/y', data: 'x' }]], /through the symlink "a"/);
  await escapes([[{ name: 'a', type: 'symlink', linkname: outside }], [{ name: 'a/.wh.victim' }]], /through the symlink/);
  await escapes([[{ name: 'a', type: 'symlink', linkname: outside }], [{ name: 'a/.wh..wh..opq' }]], /through the symlink/);
  await escapes(
    [[{ name: 'a', type: 'symlink', linkname: outside }], [{ name: 'h', type: 'link', linkname: 'a/victim' }]],
    /through the symlink/,
  );
  assert.equal(readdirSync(outside), ['victim']);
  assert.is(readFileSync(join(outside, 'victim'), 'utf8'), 'untouched');
});

test('a layer replacing a symlink by a directory is not a write through it', async () => {
  const outside = fresh('outside');
  const img = image([
    [{ name: 'a', type: 'symlink', linkname: outside }],
    [
      { name: 'a/', type: 'dir' },
      { name: 'a/file', data: 'inside' },
    ],
  ]);
  const root = await unpack(img);
  assert.ok(lstatSync(join(root, 'a')).isDirectory());
  assert.is(read(root, 'a/file'), 'inside');
  assert.equal(readdirSync(outside), []);
});

test('digests: a plan naming another image, a layer that does not match its digest', async () => {
  const img = image([hello]);
  const other = `sha256:${'0'.repeat(64)}`;
  await rejects(unpackImage(img.file, { cacheRoot: img.cacheRoot, digest: other }), 'CT_IMAGE_DIGEST', /changed since the plan was built/);
  const dir = image([hello], { dir: true });
  const layer = (await readImage(dir.file)).layers[0].blob.file;
  const bytes = readFileSync(layer);
  bytes[bytes.indexOf('hello')] = 'j'.charCodeAt(0);
  writeFileSync(layer, bytes);
  await rejects(unpack(dir), 'CT_IMAGE_DIGEST', /has sha256 sha256:[0-9a-f]{64}, not its digest/);
  assert.equal(leftInCache(dir.cacheRoot), []);
});

test('not an image, or a zstd layer: CT_IMAGE_FORMAT', async () => {
  const junk = join(fresh('junk'), 'junk.tar');
  writeFileSync(junk, tarFile([{ name: 'readme', data: 'x' }]));
  await rejects(readImage(junk), 'CT_IMAGE_FORMAT', /not an image archive/);
  const dir = image([hello], { dir: true });
  const manifestName = JSON.parse(readFileSync(join(dir.file, 'index.json'), 'utf8')).manifests[0].digest.slice(7);
  const manifest = JSON.parse(readFileSync(join(dir.file, 'blobs/sha256', manifestName), 'utf8'));
  manifest.layers[0].mediaType = 'application/vnd.oci.image.layer.v1.tar+zstd';
  const bytes = Buffer.from(JSON.stringify(manifest));
  const hex = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(join(dir.file, 'blobs/sha256', hex), bytes);
  writeFileSync(
    join(dir.file, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${hex}`, size: bytes.length }],
    }),
  );
  await rejects(readImage(dir.file), 'CT_IMAGE_FORMAT', /zstd/);
});

test('a second unpack takes the cached rootfs without reading the archive', async () => {
  const img = image([hello]);
  const root = await unpack(img);
  rmSync(img.file);
  assert.is(await unpack(img), root);
});

test('two unpacks of one image at once: both succeed, one rootfs, no temp dir left', async () => {
  const img = image([hello, [{ name: 'etc/x', data: 'x' }]], { gzip: true });
  const [a, b] = await Promise.all([unpack(img), unpack(img)]);
  assert.is(a, b);
  assert.equal(leftInCache(img.cacheRoot), [img.digest.slice(7)]);
  assert.is(read(a, 'etc/x'), 'x');
});

test("a temp dir that a killed unpack left is removed by the next; a live one's is not touched", async () => {
  const img = image([hello]);
  const hex = img.digest.slice(7);
  const images = join(img.cacheRoot, '@images');
  const gone = spawnSync('true').pid!; // exited: its pid is free
  mkdirSync(join(images, `${hex}.tmp-${gone}-abc`, 'rootfs', 'etc'), { recursive: true });
  mkdirSync(join(images, `${hex}.tmp-${process.pid}-def`), { recursive: true }); // "in progress" in this live process
  await unpack(img);
  assert.equal(leftInCache(img.cacheRoot).sort(), [hex, `${hex}.tmp-${process.pid}-def`].sort());
});

test('progress: a bar on a terminal, cleared at the end; nothing otherwise', async () => {
  const out = (isTTY: boolean) => {
    const written: string[] = [];
    return { written, stream: { isTTY, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream };
  };
  const tty = out(true);
  const img = image([hello]);
  await unpackImage(img.file, { cacheRoot: img.cacheRoot, digest: img.digest, progress: tty.stream });
  assert.ok(
    tty.written.some((s) => s.startsWith('\runpacking image.tar [') && s.includes('100%')),
    tty.written.join('|'),
  );
  assert.is(tty.written.at(-1), '\r\x1b[K');
  const pipe = out(false);
  const img2 = image([hello]);
  await unpackImage(img2.file, { cacheRoot: img2.cacheRoot, digest: img2.digest, progress: pipe.stream });
  assert.equal(pipe.written, []);
});

test('the busybox image (OCI and docker): /bin/sh is a symlink to busybox', async () => {
  for (const format of ['oci', 'docker'] as const) {
    const at = fresh('busybox');
    const file = join(at, 'busybox.tar');
    const digest = busyboxImage(file, format);
    const root = await unpackImage(file, { cacheRoot: join(at, 'cache'), digest });
    assert.is(readlinkSync(join(root, 'bin/sh')), 'busybox');
    assert.is(statSync(join(root, 'bin/busybox')).mode & 0o777, 0o755);
    assert.is(statSync(join(root, 'tmp')).mode & 0o7777, 0o1777);
    assert.match(read(root, 'etc/passwd'), /^root:x:0:0:/);
  }
  const again = join(fresh('busybox'), 'again.tar');
  const first = join(fresh('busybox'), 'first.tar');
  assert.is(busyboxImage(again), busyboxImage(first), 'the same bytes, the same digest');
  assert.ok(readFileSync(again).equals(readFileSync(first)));
});

test.run();
