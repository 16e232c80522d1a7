// The house stays easy to live in (issue 21): no hand-written source file
// over 800 lines. Generated files (their first lines say so) are exempt.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { root } from '../helpers.ts';

const LIMIT = 800;
const generated = (text: string) => /generated|do not edit/i.test(text.split('\n').slice(0, 6).join('\n'));

test(`no hand-written .ts, .mjs, .c or .h file of the repository is over ${LIMIT} lines`, () => {
  const files = execFileSync('git', ['ls-files', '*.ts', '*.mjs', '*.c', '*.h'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  assert.ok(files.length > 100, `git ls-files found the sources: ${files.length}`);
  const over = files.flatMap((f) => {
    const text = readFileSync(join(root, f), 'utf8');
    const lines = text.split('\n').length - 1;
    return lines > LIMIT && !generated(text) ? [`${f}: ${lines} lines`] : [];
  });
  assert.equal(over, []);
});

test.run();
