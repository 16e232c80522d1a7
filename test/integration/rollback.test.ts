// Rollback (the fault sweep, `npm run test:faults`): every step of every
// example plan is made to fail in turn (CTC_FAIL_STEP=N), after the steps
// before it really ran. Each time ctc must name the step, exit non-zero, and
// leave the host exactly as it was: no cgroup, mount, state dir, process,
// link, netns or nft table, the same mount table, and no fd more in this
// process. The bridge example runs in a network namespace the test makes
// (its links and nft tables are checked there); the rootless example's sweep
// runs as an ordinary user, in rootless.test.ts.

import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePlan } from '../../compiler/plan/text.ts';
import { cli, ctc, example, hostResidue, mountTable, tempDir } from '../helpers.ts';

const tmp = tempDir();
const NS = `ctc-rollback-${process.pid}`;
test.after(() => {
  spawnSync('ip', ['netns', 'del', NS]);
  tmp.remove();
});

const fds = () => readdirSync('/proc/self/fd').length;

/** What a failed run must leave as it found: the host, and for the bridge its namespace's links and nft tables. */
const snapshot = (ns?: string) => ({
  host: hostResidue(),
  mounts: mountTable(),
  fds: fds(),
  ...(ns
    ? {
        links: execFileSync('ip', ['-n', ns, '-o', 'link'], { encoding: 'utf8' }).split('\n').map((l) => l.split(': ')[1]).filter(Boolean),
        nft: execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables'], { encoding: 'utf8' }),
      }
    : {}),
});

function sweep(name: string, run: (args: string[], env: Record<string, string>) => { status: number | null; stderr: string }, ns?: string) {
  const planFile = join(tmp.dir, `${name}.plan`);
  assert.is(ctc(['build', example(`${name}.ct.ts`), '-o', planFile]).status, 0);
  const { steps } = parsePlan(readFileSync(planFile, 'utf8'));
  const before = snapshot(ns);
  for (const step of steps) {
    const r = run(['run', '--id', `rollback-${name}`, planFile], { CTC_FAIL_STEP: String(step.n) });
    assert.is(r.status, 1, `step ${step.n}: exit status (stderr: ${r.stderr})`);
    assert.ok(r.stderr.includes(`error CT_STEP_FAILED: step ${step.n} ${step.kind}`), `step ${step.n} ${step.kind} is named: ${r.stderr}`);
    assert.equal(snapshot(ns), before, `nothing is left after a failure at step ${step.n} ${step.kind}`);
  }
  console.log(`    fault sweep: ${steps.length} steps of ${name}.plan`);
}

for (const name of ['hello', 'limits']) {
  test(`${name}: a failure at each step is rolled back completely`, () => {
    sweep(name, (args, env) => ctc(args, { env }));
  });
}

test('bridge (in a network namespace of its own): a failure at each step is rolled back completely', () => {
  execFileSync('ip', ['netns', 'add', NS]);
  sweep(
    'bridge',
    (args, env) => {
      const r = spawnSync('nsenter', [`--net=/run/netns/${NS}`, '--', process.execPath, cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
      return { status: r.status, stderr: r.stderr };
    },
    NS,
  );
});

test.run();
