// The three kinds of root, each through its example (hostRootfs: hello,
// dirRootfs: dir, imageRootfs: image), and image roots end to end: layers
// with whiteouts and an opaque directory seen from inside the container, the
// overlay that keeps the cache unchanged, read-only images, the cache reused
// without the archive, and archives refused when they changed since the
// build or would write outside the root, leaving nothing behind.

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readImage } from '../../image/archive.ts';
import { busyboxImage, busyboxLayers, busyboxRootfs, tarFile, writeImage, type TarEntry } from '../busybox-image.ts';
import { cli, ctc, example, hostResidue, tempDir } from '../helpers.ts';

const tmp = tempDir();
const state = join(tmp.dir, 'state');
const before = hostResidue([state]);
const made: string[] = []; // what this test made outside its temp dir, removed after
test.after(() => {
  for (const p of made) rmSync(p, { recursive: true, force: true });
  tmp.remove();
});

/** Makes path with make() unless it is there already (a user's own is left alone). */
function ensure(path: string, make: () => void): void {
  if (existsSync(path)) return;
  make();
  made.push(path);
}

const run = (plan: string) => ctc(['--root', state, 'run', plan]);
const images = () => (existsSync(join(state, '@images')) ? readdirSync(join(state, '@images')) : []);
const noContainers = () => readdirSync(state).filter((e) => e !== '@images');

test('hostRootfs: examples/hello.ct.ts runs', () => {
  const plan = join(tmp.dir, 'hello.plan');
  assert.is(ctc(['build', example('hello.ct.ts'), '-o', plan]).status, 0);
  const r = run(plan);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /hostname: hello\npid: 1\n/);
});

test('dirRootfs: examples/dir.ct.ts runs on a prepared busybox root, read-only', () => {
  const root = '/var/lib/ctc-examples/busybox';
  ensure(root, () => busyboxRootfs(root));
  if (made.includes(root) && readdirSync(dirname(root)).length === 1) made.push(dirname(root));
  const plan = join(tmp.dir, 'dir.plan');
  assert.is(ctc(['build', example('dir.ct.ts'), '-o', plan]).status, 0);
  const r = run(plan);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'hostname: from-dir\n/tmp is writable\n/ is read-only\n');
  assert.not.ok(existsSync(join(root, 'root-file')));
});

test('imageRootfs: examples/image.ct.ts runs from the cache; its writes stay out of the image', async () => {
  const archive = example('busybox.tar');
  ensure(archive, () => busyboxImage(archive));
  // next to the example: the plan finds busybox.tar beside itself, as the source did
  const plan = example(`image-${process.pid}.plan`);
  made.push(plan);
  const built = ctc(['build', example('image.ct.ts'), '-o', plan]);
  assert.is(built.status, 0, built.stderr);
  const { digest } = await readImage(archive);
  assert.match(readFileSync(plan, 'utf8'), `image.unpack archive=busybox.tar digest=${digest}`);
  const r = run(plan);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^hostname: from-image\nwritten\nbin\ndev\netc\n/);
  assert.equal(images(), [digest.slice(7)], 'one image in the cache, by digest');
  const cached = join(state, '@images', digest.slice(7), 'rootfs');
  assert.not.ok(existsSync(join(cached, 'etc', 'motd')), 'the container wrote to its overlay, not the cache');
  assert.equal(noContainers(), []);
});

// An image of four layers: busybox, then /data with a file, then one that
// whites out /etc/group and makes /data opaque (its lower files gone, its own new one kept).
const layered: TarEntry[][] = [
  [
    { name: 'data/', type: 'dir' },
    { name: 'data/old', data: 'old\n' },
    { name: 'data/sub/', type: 'dir' },
    { name: 'data/sub/deep', data: 'deep\n' },
  ],
  [{ name: 'etc/.wh.group' }, { name: 'data/.wh..wh..opq' }, { name: 'data/new', data: 'new\n', mode: 0o4755, uid: 1234, gid: 5678 }],
];
const source = (dir: string, opts = '') =>
  writeFileSync(
    join(dir, 'app.ct.ts'),
    `import { container, defaultMounts, imageRootfs } from 'ctc';\nexport default container({\n  rootfs: imageRootfs('img.tar'${opts}),\n  mounts: defaultMounts,\n  process: { args: ['/bin/sh', '-c', 'ls -A /data; ls -ln /data/new; ls /etc; echo x > /w && echo wrote'], env: ['PATH=/bin'] },\n});\n`,
  );
function imageApp(name: string, layers: TarEntry[][], opts = '') {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  const digest = writeImage(join(dir, 'img.tar'), { layers: [...busyboxLayers(), ...layers.map(tarFile)] });
  source(dir, opts);
  const built = ctc(['build', join(dir, 'app.ct.ts')]);
  assert.is(built.status, 0, built.stderr);
  return { dir, digest, plan: join(dir, 'app.plan') };
}

test('whiteouts and an opaque directory, seen from inside; the cache serves a second run without the archive', () => {
  const app = imageApp('layers', layered);
  const r = run(app.plan);
  assert.is(r.status, 0, r.stderr);
  const [data, modeLine, ...rest] = r.stdout.trim().split('\n');
  assert.is(data, 'new', "the opaque /data shows only its own layer's file");
  assert.match(modeLine, /^-rwsr-xr-x\s+1 1234\s+5678 /, 'mode and owner kept');
  assert.not.ok(rest.includes('group'), '/etc/group is whited out');
  assert.ok(rest.includes('passwd'));
  assert.is(rest.at(-1), 'wrote', 'the root is writable');
  rmSync(join(app.dir, 'img.tar'));
  const again = run(app.plan);
  assert.is(again.status, 0, again.stderr);
  assert.match(again.stdout, /^new\n/);
  assert.equal(noContainers(), []);
});

test('readonly: true: the image as it is, and writes fail', () => {
  const app = imageApp('ro', [], ', { readonly: true }');
  assert.match(readFileSync(app.plan, 'utf8'), /init rootfs\.readonly/);
  const r = run(app.plan);
  assert.is(r.status, 1, 'the last command (the write) fails');
  assert.match(r.stderr, /Read-only file system/);
  assert.equal(noContainers(), []);
});

test('an archive changed since the build: CT_IMAGE_DIGEST at the step, nothing left', () => {
  const app = imageApp('changed', [[{ name: 'data/', type: 'dir' }]]);
  writeImage(join(app.dir, 'img.tar'), { layers: [...busyboxLayers(), tarFile([{ name: 'data/', type: 'dir', mode: 0o700 }])] });
  const cachedBefore = images();
  const r = run(app.plan);
  assert.is(r.status, 1);
  assert.match(r.stderr, /error CT_IMAGE_DIGEST: step 2 image\.unpack .*changed since the plan was built/);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(images(), cachedBefore);
  assert.equal(noContainers(), []);
});

test("an entry escaping the root ('../'): CT_IMAGE_ESCAPE naming it; nothing written outside, nothing cached, nothing left", () => {
  const app = imageApp('escape', [
    [
      { name: 'data/', type: 'dir' },
      { name: '../escaped', data: 'out\n' },
    ],
  ]);
  const cachedBefore = images();
  const r = run(app.plan);
  assert.is(r.status, 1);
  assert.match(r.stderr, /error CT_IMAGE_ESCAPE: .*\.\.\/escaped/);
  assert.equal(images(), cachedBefore, 'no image, and no temp dir, in the cache');
  assert.not.ok(existsSync(join(state, 'escaped')) || existsSync(join(state, '@images', 'escaped')));
  assert.equal(noContainers(), []);
  assert.equal(
    hostResidue([state]).filter((x) => !x.includes('@images')),
    before,
  );
});

test('gc --images removes the cached images no container uses, and keeps the one a running container does', async () => {
  const app = imageApp('gc', [[{ name: 'gc/', type: 'dir' }]]);
  const src = join(app.dir, 'app.ct.ts');
  writeFileSync(src, readFileSync(src, 'utf8').replace(/args: \[.*\], env/, "args: ['/bin/sleep', '30'], env"));
  assert.is(ctc(['build', src]).status, 0);
  const out = join(tmp.dir, 'gc.out');
  const fd = openSync(out, 'w');
  try {
    const r = spawnSync(process.execPath, [cli, '--root', state, 'run', '-d', '--id', 'gc1', app.plan], {
      stdio: ['ignore', fd, fd],
      timeout: 30_000,
    });
    assert.is(r.status, 0, readFileSync(out, 'utf8'));
  } finally {
    closeSync(fd);
  }
  const used = app.digest.slice(7);
  const others = images().filter((x) => x !== used);
  assert.ok(others.length > 0, 'the earlier tests cached other images');
  const dry = ctc(['--root', state, 'gc', '--images', '--dry-run']);
  assert.equal(dry.stdout.trim().split('\n').sort(), others.map((x) => `@images/${x}`).sort());
  assert.is(images().length, others.length + 1, 'a dry run removes nothing');
  assert.is(ctc(['--root', state, 'gc', '--images']).status, 0);
  assert.equal(images(), [used], 'the running container keeps its image');
  assert.is(ctc(['--root', state, 'delete', '--force', 'gc1']).status, 0);
  assert.is(ctc(['--root', state, 'gc', '--images']).stdout.trim(), `@images/${used}`);
  assert.equal(images(), []);
  assert.equal(noContainers(), []);
});

test.run();
