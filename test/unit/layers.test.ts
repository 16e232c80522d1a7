// The layering of docs/design.md ("Layers"), held: compiler → plan ← executor.
// Every relative import (static, dynamic, re-export) of each folder is
// resolved and checked against the folders it may not reach.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { root } from '../helpers.ts';

/** folder → the top-level folders its files must not import */
const forbidden: Record<string, string[]> = {
  executor: ['compiler', 'cli'],
  plan: ['compiler', 'executor', 'cli'],
  image: ['compiler', 'executor', 'cli', 'plan'],
  common: ['compiler', 'executor', 'cli', 'plan', 'image', 'stdlib'],
};

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

const specifiers = (text: string): string[] =>
  [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.[^'"]+)['"]/gm)].map((m) => m[1]);

/** Each file's imports that land in a folder it must not reach, as `file → target`. */
function violations(folder: string): string[] {
  const out: string[] = [];
  for (const file of sources(join(root, folder))) {
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      const top = relative(root, resolve(dirname(file), spec)).split('/')[0];
      if (forbidden[folder].includes(top)) out.push(`${relative(root, file)} → ${spec}`);
    }
  }
  return out;
}

for (const folder of Object.keys(forbidden)) {
  test(`${folder}/ imports nothing from ${forbidden[folder].join(', ')}`, () => {
    assert.equal(violations(folder), []);
  });
}

test('the check sees imports: compiler/ does import plan/ (else the rule above proves nothing)', () => {
  const seen = sources(join(root, 'compiler')).some((f) =>
    specifiers(readFileSync(f, 'utf8')).some((s) => relative(root, resolve(dirname(f), s)).startsWith('plan/')),
  );
  assert.ok(seen);
});

test.run();
