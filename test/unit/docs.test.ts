import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stepKindsMarkdown } from '../../compiler/plan/docs.ts';
import { root } from '../helpers.ts';

const BEGIN = /<!-- step-kinds:begin[^>]*-->\n/;
const END = /\n?<!-- step-kinds:end -->/;

test("the README's step table is the step table", () => {
  const file = join(root, 'README.md');
  const readme = readFileSync(file, 'utf8');
  const begin = BEGIN.exec(readme);
  const end = END.exec(readme);
  assert.ok(begin && end && end.index > begin.index, 'the README has the step-kinds markers, in order');
  const head = readme.slice(0, begin!.index + begin![0].length);
  const tail = readme.slice(end!.index + end![0].length);
  const expected = `${head}${stepKindsMarkdown()}\n<!-- step-kinds:end -->${tail}`;
  if (process.env.CTC_UPDATE_GOLDEN) writeFileSync(file, expected);
  assert.fixture(readme, expected);
  assert.match(tail, /## Requirements/, 'what follows the table is kept');
});

test.run();
