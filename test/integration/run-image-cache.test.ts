// The run-image cache kept within its bound (executor/native-bridge/run-image-cache.ts)
// with real runs: the executor writes the images, the launcher (dist/ctc)
// finds them and marks them used, writes and `ctc gc` prune them. Each test
// has a cache dir of its own (CTC_CACHE_DIR); gc gets a state root of its
// own, so it judges no other test's containers.

import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ctc, example, root, tempDir, type Ran } from '../helpers.ts';

const tmp = tempDir();
test.after(() => tmp.remove());

const launcher = join(root, 'dist', 'ctc');
const NO_NODE = { CTC_NODE: '/nonexistent/node' };
const DAY = 86_400_000;
let n = 0;

function native(args: string[], env: Record<string, string>): Ran {
  const r = spawnSync(launcher, args, { encoding: 'utf8', cwd: root, env: { ...process.env, ...env }, input: '', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A cache dir of its own, as the executor makes it. */
function newCache(): string {
  const dir = join(tmp.dir, `cache-${++n}`);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

/** hello.ct.ts's plan with its own hostname, so its own image. */
function plan(name: string): string {
  const file = join(tmp.dir, `${name}.plan`);
  if (!existsSync(file)) {
    const source = join(tmp.dir, `${name}.ct.ts`);
    writeFileSync(source, readFileSync(example('hello.ct.ts'), 'utf8').replace("hostname: 'hello'", `hostname: '${name}'`));
    const r = ctc(['build', source, '-o', file]);
    assert.is(r.status, 0, r.stderr);
  }
  return file;
}

const images = (cache: string) =>
  readdirSync(cache)
    .filter((f) => f.endsWith('.img'))
    .sort();

/** Runs the plan through Node (it writes the image) and returns the image's name. */
function compile(cache: string, name: string, env: Record<string, string> = {}): string {
  const before = new Set(images(cache));
  const r = ctc(['run', '--id', `ric-${name}`, plan(name)], { env: { CTC_CACHE_DIR: cache, ...env } });
  assert.is(r.status, 0, r.stderr);
  assert.ok(r.stdout.includes(`hostname: ${name}`));
  const added = images(cache).filter((f) => !before.has(f));
  assert.is(added.length, 1, `one image for ${name}`);
  return added[0];
}

/**
 * Runs the plan through the launcher alone: true if it ran from its cached
 * image (a hit sets the image's mtime to now), false if there was none (then
 * the launcher built the image from the plan's text, and wrote none).
 */
function hit(cache: string, name: string): boolean {
  const before = new Map(images(cache).map((f) => [f, statSync(join(cache, f)).mtimeMs]));
  const r = native(['run', '--id', `ric-${name}`, plan(name)], { ...NO_NODE, CTC_CACHE_DIR: cache });
  assert.is(r.status, 0, r.stderr);
  assert.ok(r.stdout.includes(`hostname: ${name}`));
  const after = images(cache);
  assert.ok(
    after.every((f) => before.has(f)),
    'the launcher writes no image',
  );
  return after.some((f) => statSync(join(cache, f)).mtimeMs > before.get(f)!);
}

const used = (cache: string, img: string, ago: number) => utimesSync(join(cache, img), new Date(), new Date(Date.now() - ago));
const mtime = (cache: string, img: string) => statSync(join(cache, img)).mtimeMs;

function gc(cache: string, env: Record<string, string> = {}, args: string[] = []): string[] {
  const r = ctc(['--root', join(tmp.dir, 'gc-root'), 'gc', ...args], { env: { CTC_CACHE_DIR: cache, ...env } });
  assert.is(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

test('a hit marks the image used: the launcher sets its mtime', () => {
  const cache = newCache();
  const img = compile(cache, 'hit');
  used(cache, img, 3 * DAY);
  assert.ok(hit(cache, 'hit'));
  assert.ok(Date.now() - mtime(cache, img) < 60_000, 'used now');
});

test('over the entry bound, a write removes the least recently used; a hit keeps one', () => {
  const cache = newCache();
  const env = { CTC_CACHE_MAX_ENTRIES: '4' };
  const img = ['lru1', 'lru2', 'lru3', 'lru4'].map((name) => compile(cache, name, env));
  img.forEach((f, k) => used(cache, f, (5 - k) * 3_600_000)); // lru1 the oldest … lru4 the newest
  assert.ok(hit(cache, 'lru1'), 'lru1 used again: now the newest');
  const fifth = compile(cache, 'lru5', env); // 5 files > 4: pruned down to 3
  assert.equal(images(cache), [img[0], img[3], fifth].sort());
  assert.ok(!hit(cache, 'lru2') && !hit(cache, 'lru3'), 'the two least recently used are gone');
  assert.ok(hit(cache, 'lru1') && hit(cache, 'lru4') && hit(cache, 'lru5'));
});

test('ctc gc removes the images unused for longer than the age bound and says which; a pruned plan still runs', () => {
  const cache = newCache();
  const old = compile(cache, 'gc-old');
  const fresh = compile(cache, 'gc-fresh');
  used(cache, old, 15 * DAY); // the default bound: 14 days
  const bad = ctc(['--root', join(tmp.dir, 'gc-root'), 'gc'], { env: { CTC_CACHE_DIR: cache, CTC_CACHE_MAX_AGE: '1d' } });
  assert.is(bad.status, 2);
  assert.match(bad.stderr, 'error CT_USAGE: CTC_CACHE_MAX_AGE is a number of seconds, not 1d');
  assert.equal(images(cache), [old, fresh].sort(), 'a bad setting removes nothing');
  assert.equal(gc(cache, {}, ['--dry-run']), [`@run-images/${old}`], 'a dry run lists it');
  assert.ok(existsSync(join(cache, old)), '… and keeps it');
  assert.equal(gc(cache), [`@run-images/${old}`]);
  assert.equal(images(cache), [fresh]);
  assert.equal(gc(cache), [], 'nothing more to prune');
  used(cache, fresh, 2 * 3_600_000);
  assert.equal(gc(cache, { CTC_CACHE_MAX_AGE: '3600' }), [`@run-images/${fresh}`], 'CTC_CACHE_MAX_AGE in seconds');
  assert.ok(!hit(cache, 'gc-old'), 'pruned: the launcher builds its image from the text again, and runs it');
  assert.equal(images(cache), []);
  assert.is(compile(cache, 'gc-old'), old, 'a run through Node writes it again');
  assert.ok(hit(cache, 'gc-old'));
});

test('gc touches only entries: not a symlink (nor what it names), other files, or a cache dir others could write', () => {
  const cache = newCache();
  const img = compile(cache, 'only');
  const outside = join(tmp.dir, 'outside.img');
  writeFileSync(outside, 'not an image');
  const link = `${'a'.repeat(64)}.img`;
  symlinkSync(outside, join(cache, link));
  writeFileSync(join(cache, 'notes.txt'), '');
  const deadWrite = `${'b'.repeat(64)}.img.999999999`; // a pid that cannot be: a write that died
  writeFileSync(join(cache, deadWrite), 'half');
  chmodSync(cache, 0o770);
  assert.equal(gc(cache, { CTC_CACHE_MAX_AGE: '0' }), [], 'a cache others could write: left alone');
  chmodSync(cache, 0o700);
  const cacheLink = join(tmp.dir, 'cache-link');
  symlinkSync(cache, cacheLink);
  assert.equal(gc(cacheLink, { CTC_CACHE_MAX_AGE: '0' }), [], 'a cache dir that is a symlink: not followed');
  assert.equal(gc(cache, { CTC_CACHE_MAX_AGE: '0' }).sort(), [`@run-images/${deadWrite}`, `@run-images/${img}`].sort());
  assert.ok(lstatSync(join(cache, link)).isSymbolicLink(), 'the symlink stays');
  assert.is(readFileSync(outside, 'utf8'), 'not an image', 'and what it names');
  assert.ok(existsSync(join(cache, 'notes.txt')));
});

test('runs while the cache is emptied under them: each runs from its image or compiles again', async () => {
  const cache = newCache();
  compile(cache, 'race');
  let stop = false;
  let pruned = 0;
  const pruner = (async () => {
    while (!stop) {
      pruned += gc(cache, { CTC_CACHE_MAX_AGE: '0' }).length;
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const runs = Array.from(
    { length: 12 },
    (_, k) =>
      new Promise<Ran>((resolve) => {
        const child = spawn(launcher, ['run', '--id', `ric-race-${k}`, plan('race')], {
          cwd: root,
          env: { ...process.env, CTC_CACHE_DIR: cache },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      }),
  );
  const results = await Promise.all(runs);
  stop = true;
  await pruner;
  for (const r of results) {
    assert.is(r.status, 0, r.stderr);
    assert.ok(r.stdout.includes('hostname: race'));
  }
  assert.ok(pruned > 0, 'the pruner removed images while they ran');
});

test.run();
