// Rollback (the fault sweep, `npm run test:faults`): every step of every
// example plan is made to fail in turn (CTC_FAIL_STEP=N), after the steps
// before it really ran. Each time ctc must name the step, exit non-zero, and
// leave the host exactly as it was: no cgroup, mount, state dir, process,
// link, netns or nft table, the same mount table, and no fd more in this
// process. The bridge example runs in a network namespace the test makes
// (its links and nft tables are checked there); the rootless example's sweep
// runs as an ordinary user, in rootless.test.ts. The image example runs
// under a state root of the test's, whose image cache is kept between runs
// by design (only containers must go).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePlan } from '../../plan/text.ts';
import { busyboxImage } from '../busybox-image.ts';
import { cli, ctc, example, hostResidue, mountTable, tempDir } from '../helpers.ts';

const tmp = tempDir();
const NS = `ctc-rollback-${process.pid}`;
test.after(() => {
  spawnSync('ip', ['netns', 'del', NS]);
  tmp.remove();
});

const fds = () => readdirSync('/proc/self/fd').length;

/** What a failed run must leave as it found: the host, and for the bridge its namespace's links and nft tables. */
const snapshot = (ns?: string, roots?: string[]) => ({
  host: hostResidue(roots).filter((x) => !x.endsWith('/@images')),
  mounts: mountTable(),
  fds: fds(),
  ...(ns
    ? {
        links: execFileSync('ip', ['-n', ns, '-o', 'link'], { encoding: 'utf8' })
          .split('\n')
          .map((l) => l.split(': ')[1])
          .filter(Boolean),
        nft: execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables'], { encoding: 'utf8' }),
      }
    : {}),
});

type Runner = (args: string[], env: Record<string, string>) => { status: number | null; stderr: string };

function sweep(name: string, run: Runner, ns?: string, where: { planFile?: string; roots?: string[] } = {}) {
  const planFile = where.planFile ?? join(tmp.dir, `${name}.plan`);
  assert.is(ctc(['build', example(`${name}.ct.ts`), '-o', planFile]).status, 0);
  const { steps } = parsePlan(readFileSync(planFile, 'utf8'));
  const before = snapshot(ns, where.roots);
  for (const step of steps) {
    const r = run(['run', '--id', `rollback-${name}`, planFile], { CTC_FAIL_STEP: String(step.n) });
    assert.is(r.status, 1, `step ${step.n}: exit status (stderr: ${r.stderr})`);
    assert.ok(r.stderr.includes(`error CT_STEP_FAILED: step ${step.n} ${step.kind}`), `step ${step.n} ${step.kind} is named: ${r.stderr}`);
    assert.equal(snapshot(ns, where.roots), before, `nothing is left after a failure at step ${step.n} ${step.kind}`);
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
      const r = spawnSync('nsenter', [`--net=/run/netns/${NS}`, '--', process.execPath, cli, ...args], {
        encoding: 'utf8',
        env: { ...process.env, ...env },
      });
      return { status: r.status, stderr: r.stderr };
    },
    NS,
  );
});

test('image (an overlay root from the busybox archive): a failure at each step is rolled back completely', () => {
  const archive = example('busybox.tar');
  const madeArchive = !existsSync(archive);
  if (madeArchive) busyboxImage(archive);
  // beside the archive, as a relative archive is found beside its plan
  const planFile = example(`image-rollback-${process.pid}.plan`);
  const root = join(tmp.dir, 'state');
  try {
    sweep('image', (args, env) => ctc(['--root', root, ...args], { env }), undefined, { planFile, roots: [root] });
  } finally {
    rmSync(planFile, { force: true });
    if (madeArchive) rmSync(archive);
  }
});

test.run();
