// The golden plan of an OCI bundle config: test/fixtures/oci/busybox is what
// `ctc spec` writes, with a non-interactive command and an absolute root
// (a relative one would put this checkout's path into the plan). A change to
// what ctc does with an OCI config shows up as a reviewed diff.
// CTC_UPDATE_GOLDEN=1 npm test rewrites it.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '../../compiler/build.ts';
import { parsePlan, printPlan } from '../../plan/text.ts';
import { root } from '../helpers.ts';

test('test/fixtures/oci/busybox/config.json builds to test/golden/oci-busybox.plan', async () => {
  const { text } = await build(join(root, 'test', 'fixtures', 'oci', 'busybox', 'config.json'));
  const golden = join(root, 'test', 'golden', 'oci-busybox.plan');
  if (process.env.CTC_UPDATE_GOLDEN) writeFileSync(golden, text);
  assert.fixture(text, readFileSync(golden, 'utf8'));
  assert.is(printPlan(parsePlan(text)), text, 'the plan parses back to the same bytes');
});

test.run();
