// Rollback: every step of every example plan is made to fail in turn
// (CTC_FAIL_STEP=N), after the steps before it really ran. Each time ctc must
// name the step, exit non-zero, and leave the host exactly as it was: no
// cgroup, mount, state dir, process or link, and the same mount table.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePlan } from '../../compiler/plan/text.ts';
import { ctc, example, hostResidue, mountTable, tempDir } from '../helpers.ts';

const tmp = tempDir();
test.after(() => tmp.remove());

for (const name of ['hello', 'limits']) {
  test(`${name}: a failure at each step is rolled back completely`, () => {
    const planFile = join(tmp.dir, `${name}.plan`);
    assert.is(ctc(['build', example(`${name}.ct.ts`), '-o', planFile]).status, 0);
    const { steps } = parsePlan(readFileSync(planFile, 'utf8'));
    const residue = hostResidue();
    const mounts = mountTable();
    for (const step of steps) {
      const r = ctc(['run', '--id', `rollback-${name}`, planFile], { env: { CTC_FAIL_STEP: String(step.n) } });
      assert.is(r.status, 1, `step ${step.n}: exit status (stderr: ${r.stderr})`);
      assert.ok(r.stderr.includes(`error CT_STEP_FAILED: step ${step.n} ${step.kind}`), `step ${step.n} ${step.kind} is named: ${r.stderr}`);
      assert.equal(hostResidue(), residue, `nothing is left after a failure at step ${step.n} ${step.kind}`);
      assert.equal(mountTable(), mounts, `the mount table is as before after step ${step.n}`);
    }
  });
}

test.run();
