// The monitor's exit record against delete and rollback (issue 19): a
// detached container's monitor (ctc-init's M) writes `exit` into the state
// dir as the init dies, through a dir fd it opened at create, so its write
// can land while a delete or a failed create's rollback is emptying that
// dir. A tight loop of create/start/kill/delete (kill at once followed by
// delete, or delete --force on the running container), with creates failing
// at every step between, through the launcher and through Node, must leave
// the state root empty and no cgroup or process behind. Before the fix a
// failed create's rollback lost the race within 60 iterations (a dir holding
// only `exit`): its rmdir met the exit file M wrote after the dir was emptied.

import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePlan } from '../../plan/text.ts';
import { isAlive } from '../../executor/container/proc.ts';
import { busyboxBundle } from '../busybox.ts';
import { cli, ctc, hostResidue, root as projectRoot, tempDir } from '../helpers.ts';

const tmp = tempDir();
const root = join(tmp.dir, 'state');
const launcher = join(projectRoot, 'dist', 'ctc');
const ITERATIONS = Number(process.env.CTC_RACE_ITERATIONS ?? 200);
const ids: string[] = [];
test.after(() => {
  for (const id of ids.filter((id) => existsSync(join(root, id)))) ctc(['--root', root, 'delete', '--force', id]);
  tmp.remove();
});

type Side = 'native' | 'node';

/** One ctc command; create keeps the caller's stdio for the container, so a file, not a pipe to wait on. */
function run(side: Side, args: string[], env: Record<string, string> = {}) {
  const out = join(tmp.dir, 'out');
  const fd = openSync(out, 'w');
  try {
    const argv = ['--root', root, ...args];
    const [cmd, all] = side === 'native' ? [launcher, argv] : [process.execPath, [cli, ...argv]];
    const e = { ...process.env, ...env, ...(side === 'node' ? { CTC_NATIVE: '0' } : {}) };
    const r = spawnSync(cmd, all, { cwd: projectRoot, env: e, stdio: ['ignore', fd, fd], timeout: 30_000 });
    return { status: r.status, out: readFileSync(out, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

const bundle = busyboxBundle(join(tmp.dir, 'bundle'), { id: 'mr', args: ['/bin/sleep', '30'] });
const config = readFileSync(join(bundle, 'config.json'), 'utf8');
/** Each container its own cgroup, so one left behind is named by the residue check. */
const useId = (id: string) => {
  ids.push(id);
  writeFileSync(join(bundle, 'config.json'), config.replace('"/ctc/mr"', JSON.stringify(`/ctc/${id}`)));
};

/** The steps a create can be made to fail at (CTC_FAIL_STEP), from the bundle's plan. */
function failSteps(): number[] {
  const plan = join(tmp.dir, 'mr.plan');
  const b = ctc(['build', join(bundle, 'config.json'), '-o', plan]);
  assert.is(b.status, 0, b.stderr);
  return parsePlan(readFileSync(plan, 'utf8')).steps.map((s) => s.n);
}

/** The init and monitor of each container made, by pid and start time: none may outlive the test. */
const processes: { pid: number; startTime?: number }[] = [];
/** This test's own residue (other tests run beside it): its cgroups, its state root. */
const ours = () => hostResidue([root]).filter((x) => /\/ctc\/mr\d+$/.test(x) || x.includes(root));

function cycle(side: Side, id: string, k: number): void {
  useId(id);
  const c = run(side, ['create', '--bundle', bundle, id]);
  assert.is(c.status, 0, `${side} create ${id}: ${c.out}`);
  const st = JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8'));
  processes.push(
    { pid: st.pid, startTime: st.initStartTime },
    ...(st.monitorPid ? [{ pid: st.monitorPid, startTime: st.monitorStartTime }] : []),
  );
  const s = run(side, ['start', id]);
  assert.is(s.status, 0, `${side} start ${id}: ${s.out}`);
  // kill then delete at once, or delete --force on the running container: either races M's write
  if (k % 2 === 0) {
    const kill = run(side, ['kill', id, 'KILL']);
    assert.is(kill.status, 0, `${side} kill ${id}: ${kill.out}`);
  }
  const d = run(side, ['delete', ...(k % 2 ? ['--force'] : []), id]);
  assert.is(d.status, 0, `${side} delete ${id}: ${d.out}`);
}

function failedCreate(side: Side, id: string, step: number): void {
  useId(id);
  const c = run(side, ['create', '--bundle', bundle, id], { CTC_FAIL_STEP: String(step) });
  assert.is(c.status, 1, `${side} create ${id} failing at step ${step}: ${c.out}`);
  assert.ok(c.out.includes(`CT_STEP_FAILED: step ${step} `), `${side} step ${step} is named: ${c.out}`);
}

test(`${ITERATIONS} create/start/kill/delete cycles and failing creates leave the state root empty`, () => {
  const before = ours();
  const steps = failSteps();
  const t0 = Date.now();
  for (let k = 0; k < ITERATIONS; k++) {
    const side: Side = k % 4 < 2 ? 'native' : 'node';
    const id = `mr${k}`;
    if (k % 2) failedCreate(side, id, steps[(k >> 1) % steps.length]);
    else cycle(side, id, k >> 1);
    const left = existsSync(root) ? readdirSync(root).filter((n) => n !== '@images') : [];
    assert.equal(
      left,
      [],
      `after ${side} ${k % 2 ? 'failing create' : 'cycle'} ${id}: ${left.map((n) => `${n}: [${readdirSync(join(root, n)).join(', ')}]`).join('; ')}`,
    );
  }
  console.log(`    ${ITERATIONS} iterations in ${Date.now() - t0} ms`);
  assert.equal(ours(), before, 'no cgroup or state dir is left');
  assert.equal(
    processes.filter((p) => isAlive(p.pid, p.startTime)),
    [],
    'no init or monitor is left',
  );
});

test.run();
