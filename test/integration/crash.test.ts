// Crash recovery: ctc is killed (SIGKILL, no chance to clean up) before each
// step of an example's plan in turn (CTC_PAUSE_STEP=N stops it there), and
// `ctc delete --force ID` (odd steps) or `ctc gc` (even steps, which must
// find the container on its own) must then leave the host exactly as it was,
// from the journal alone: no cgroup, mount, state dir, process or link.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePlan } from '../../compiler/plan/text.ts';
import { cli, ctc, example, hostResidue, mountTable, root, tempDir, until } from '../helpers.ts';

const tmp = tempDir();
const state = join(tmp.dir, 'state');
test.after(() => tmp.remove());

/** Runs the plan until it pauses before step n, then kills ctc outright. */
async function killedBefore(plan: string, id: string, n: number): Promise<void> {
  const child = spawn(process.execPath, [cli, '--root', state, 'run', '--id', id, plan], {
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

for (const name of ['hello', 'limits']) {
  test(`${name}: ctc killed before each step, delete --force or gc restores the host`, async () => {
    const plan = join(tmp.dir, `${name}.plan`);
    assert.is(ctc(['build', example(`${name}.ct.ts`), '-o', plan]).status, 0);
    const { steps } = parsePlan(readFileSync(plan, 'utf8'));
    const residue = hostResidue([state]);
    const mounts = mountTable();
    const id = `crash-${name}`;
    for (const step of steps) {
      await killedBefore(plan, id, step.n);
      const byGc = step.n % 2 === 0;
      const d = byGc ? ctc(['--root', state, 'gc', '--min-age', '0']) : ctc(['--root', state, 'delete', '--force', id]);
      assert.is(d.status, 0, `step ${step.n} ${step.kind}: ${d.stderr}`);
      if (byGc) assert.is(d.stdout.trim(), id, `gc finds the container a crash before step ${step.n} left`);
      // ctc-init notices its executor is gone on its own (EOF): give it a moment.
      await until(() => JSON.stringify(hostResidue([state])) === JSON.stringify(residue), `the host to be clean after step ${step.n}`, 5000).catch(() => undefined);
      assert.equal(hostResidue([state]), residue, `nothing is left after a crash before step ${step.n} ${step.kind}`);
      assert.equal(mountTable(), mounts, `the mount table is as before after step ${step.n}`);
    }
    console.log(`    crash sweep: ${steps.length} steps of ${name}.plan`);
  });
}

test('gc leaves alone what something will finish: a running container, and a stopped one whose exit is recorded', () => {
  const plan = join(tmp.dir, 'gc.plan');
  const src = join(tmp.dir, 'gc.ct.ts');
  writeFileSync(src, "import { container, hostRootfs } from 'ctc';\nexport default container({ rootfs: hostRootfs(), process: { args: ['/bin/sh', '-c', 'exec sleep 30'] } });\n");
  assert.is(ctc(['build', src, '-o', plan]).status, 0);
  const out = join(tmp.dir, 'gc.out');
  const fd = openSync(out, 'w');
  try {
    assert.is(spawnSync(process.execPath, [cli, '--root', state, 'run', '-d', '--id', 'gc-live', plan], { stdio: ['ignore', fd, fd] }).status, 0);
  } finally {
    closeSync(fd);
  }
  assert.is(ctc(['--root', state, 'gc', '--min-age', '0']).stdout, '', 'a running container is not garbage');
  assert.is(ctc(['--root', state, 'kill', 'gc-live', 'KILL']).status, 0);
  return until(() => JSON.parse(ctc(['--root', state, 'state', 'gc-live']).stdout).status === 'stopped', 'the container to stop').then(() => {
    assert.is(ctc(['--root', state, 'gc', '--min-age', '0']).stdout, '', 'stopped with its exit recorded: it waits for delete');
    assert.is(ctc(['--root', state, 'delete', 'gc-live']).status, 0);
  });
});

test.run();
