// Golden plans: every example's plan is checked in under test/golden, so a
// change to what ctc does to the kernel shows up as a reviewed diff.
// CTC_UPDATE_GOLDEN=1 npm test rewrites them.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '../../compiler/build.ts';
import { parsePlan, printPlan } from '../../plan/text.ts';
import { example, root } from '../helpers.ts';

for (const name of ['hello', 'limits', 'bridge', 'rootless']) {
  test(`examples/${name}.ct.ts builds to test/golden/${name}.plan`, async () => {
    const { text } = await build(example(`${name}.ct.ts`));
    const golden = join(root, 'test', 'golden', `${name}.plan`);
    if (process.env.CTC_UPDATE_GOLDEN) writeFileSync(golden, text);
    assert.fixture(text, readFileSync(golden, 'utf8'));
    assert.is(printPlan(parsePlan(text)), text, 'the plan parses back to the same bytes');
  });
}

test.run();
