import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stepKindsMarkdown } from '../../compiler/plan/docs.ts';
import { root } from '../helpers.ts';

const BEGIN = '<!-- step-kinds:begin (generated from compiler/plan/steps.ts) -->\n';
const END = '\n<!-- step-kinds:end -->';

test("the README's step table is the step table", () => {
  const file = join(root, 'README.md');
  const readme = readFileSync(file, 'utf8');
  const [head, rest = ''] = readme.split(BEGIN);
  const [, tail = ''] = rest.split(END);
  const expected = `${head}${BEGIN}${stepKindsMarkdown()}${END}${tail}`;
  if (process.env.CTC_UPDATE_GOLDEN) writeFileSync(file, expected);
  assert.ok(rest, 'the README has the step-kinds markers');
  assert.fixture(readme, expected);
});

test.run();
