// Crash recovery: ctc is killed (SIGKILL, no chance to clean up) before each
// step of an example's plan in turn (CTC_PAUSE_STEP=N stops it there), and
// `ctc delete --force ID` must then leave the host exactly as it was, from
// the journal alone: no cgroup, mount, state dir, process or link.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePlan } from '../../compiler/plan/text.ts';
import { cli, ctc, example, hostResidue, mountTable, root, tempDir, until } from '../helpers.ts';

const tmp = tempDir();
test.after(() => tmp.remove());

/** Runs the plan until it pauses before step n, then kills ctc outright. */
async function killedBefore(plan: string, id: string, n: number): Promise<void> {
  const child = spawn(process.execPath, [cli, 'run', '--id', id, plan], {
    cwd: root,
    env: { ...process.env, CTC_PAUSE_STEP: String(n) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('close', resolve));
  await until(() => stderr.includes(`paused before step ${n} `) || child.exitCode !== null, `ctc to pause before step ${n}`);
  assert.ok(stderr.includes(`paused before step ${n} `), `ctc paused before step ${n}: ${stderr}`);
  child.kill('SIGKILL');
  await exited;
}

test('limits: ctc killed before each step, delete --force restores the host', async () => {
  const plan = join(tmp.dir, 'limits.plan');
  assert.is(ctc(['build', example('limits.ct.ts'), '-o', plan]).status, 0);
  const { steps } = parsePlan(readFileSync(plan, 'utf8'));
  const residue = hostResidue();
  const mounts = mountTable();
  for (const step of steps) {
    await killedBefore(plan, 'crash-limits', step.n);
    const d = ctc(['delete', '--force', 'crash-limits']);
    assert.is(d.status, 0, `step ${step.n} ${step.kind}: ${d.stderr}`);
    // ctc-init notices its executor is gone on its own (EOF): give it a moment.
    await until(() => JSON.stringify(hostResidue()) === JSON.stringify(residue), `the host to be clean after step ${step.n}`, 5000).catch(() => undefined);
    assert.equal(hostResidue(), residue, `nothing is left after a crash before step ${step.n} ${step.kind}`);
    assert.equal(mountTable(), mounts, `the mount table is as before after step ${step.n}`);
  }
  console.log(`    crash sweep: ${steps.length} steps of limits.plan`);
});

test.run();
