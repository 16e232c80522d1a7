// The run-image cache's bound (executor/native-bridge/run-image-cache.ts): which images
// go, in what order; its settings; and the cache dir the launcher reads
// (native/launcher/launcher.h) being the one the executor writes.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CtcError } from '../../common/error.ts';
import { type CacheFile, DEFAULT_BOUND, cacheBound, cacheDir, overBound } from '../../executor/native-bridge/run-image-cache.ts';
import { root } from '../helpers.ts';

const HOUR = 3_600_000;
const now = 1_000 * HOUR;
/** image k: one file (a plan's) or two linked (a bundle's and its plan's), last used `age` hours ago */
const image = (k: number, age: number, size = 1000, names = 1): CacheFile[] =>
  Array.from({ length: names }, (_, j) => ({ name: `${k}-${j}`, ino: BigInt(k), size, mtimeMs: now - age * HOUR }));
const bound = (maxEntries: number, maxBytes = 1 << 30, maxAgeMs = 1000 * HOUR) => ({ maxEntries, maxBytes, maxAgeMs });

test("the cache dir is the launcher's", () => {
  const h = readFileSync(join(root, 'native', 'launcher', 'launcher.h'), 'utf8');
  const saved = process.env.CTC_CACHE_DIR;
  delete process.env.CTC_CACHE_DIR;
  try {
    assert.is(/#define CACHE_DIR "([^"]+)"/.exec(h)?.[1], cacheDir());
  } finally {
    process.env.CTC_CACHE_DIR = saved;
  }
});

test('within its bound: nothing goes', () => {
  assert.equal(overBound([...image(1, 5), ...image(2, 1)], bound(2), now), []);
});

test('over the entry bound: least recently used first, down to 90% of it', () => {
  const files = [5, 1, 9, 3, 7, 2, 8, 4, 6, 10, 11].flatMap((age, k) => image(k, age));
  // 11 files, bound 10: down to 9
  assert.equal(overBound(files, bound(10), now), ['10-0', '9-0']);
});

test('an image goes with all its names, and counts as its files but its bytes once', () => {
  const files = [...image(1, 3, 1000, 2), ...image(2, 2, 1000, 2), ...image(3, 1, 1000, 1)];
  assert.equal(overBound(files, bound(4), now), ['1-0', '1-1'], '5 files > 4: the oldest image, both names');
  assert.equal(overBound(files, bound(100, 2500), now), ['1-0', '1-1'], '3000 bytes > 2500: down to 2250');
  assert.equal(overBound(files, bound(100, 3000), now), [], 'a linked name is not counted twice in bytes');
});

test('unused for longer than the age bound: gone, even within the other bounds', () => {
  const files = [...image(1, 30), ...image(2, 20), ...image(3, 1)];
  assert.equal(overBound(files, bound(10, 1 << 30, 24 * HOUR), now), ['1-0']);
  assert.equal(overBound(files, bound(10, 1 << 30, 0), now), ['1-0', '2-0', '3-0'], 'age 0: everything');
});

test('the bound from the environment; a bad value is CT_USAGE naming the variable', () => {
  assert.equal(cacheBound({}), DEFAULT_BOUND);
  assert.equal(cacheBound({ CTC_CACHE_MAX_ENTRIES: '10', CTC_CACHE_MAX_BYTES: '4096', CTC_CACHE_MAX_AGE: '60' }), {
    maxEntries: 10,
    maxBytes: 4096,
    maxAgeMs: 60_000,
  });
  for (const [name, v] of [
    ['CTC_CACHE_MAX_AGE', '1d'],
    ['CTC_CACHE_MAX_ENTRIES', '-1'],
    ['CTC_CACHE_MAX_BYTES', '1.5'],
  ]) {
    try {
      cacheBound({ [name]: v });
      assert.unreachable(`${name}=${v}`);
    } catch (e) {
      assert.instance(e, CtcError);
      assert.is((e as CtcError).code, 'CT_USAGE');
      assert.match((e as Error).message, name);
    }
  }
});

test.run();
