// Crash recovery: ctc is killed (SIGKILL, no chance to clean up) before each
// step of an example's plan in turn (CTC_PAUSE_STEP=N stops it there), and
// `ctc delete --force ID` (odd steps) or `ctc gc` (even steps, which must
// find the container on its own) must then leave the host exactly as it was,
// from the journal alone: no cgroup, mount, state dir, process or link. The
// bridge example runs in a network namespace the test makes (its links and
// nft tables are checked there); rootless.test.ts sweeps the rootless one as
// an ordinary user. The image example's cache under the state root stays, by
// design; only the containers must go.

import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePlan } from '../../plan/text.ts';
import { busyboxImage } from '../busybox-image.ts';
import { cli, ctc, example, hostResidue, killedBefore, mountTable, tempDir, until } from '../helpers.ts';

const tmp = tempDir();
const state = join(tmp.dir, 'state');
test.after(() => tmp.remove());

const NS = `ctc-crash-${process.pid}`;
test.after(() => void spawnSync('ip', ['netns', 'del', NS]));

/** The host as a crash must not leave it, and for the bridge its namespace's links and nft tables. */
const snapshot = (ns?: string) => ({
  host: hostResidue([state]).filter((x) => !x.endsWith('/@images')),
  mounts: mountTable(),
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

async function sweep(name: string, wrap: string[] = [], ns?: string, plan = join(tmp.dir, `${name}.plan`)) {
  assert.is(ctc(['build', example(`${name}.ct.ts`), '-o', plan]).status, 0);
  const { steps } = parsePlan(readFileSync(plan, 'utf8'));
  const before = snapshot(ns);
  const id = `crash-${name}`;
  const ctcHere = (args: string[]) => {
    const r = spawnSync(
      wrap[0] ?? process.execPath,
      [...wrap.slice(1), ...(wrap.length ? [process.execPath] : []), cli, '--root', state, ...args],
      { encoding: 'utf8' },
    );
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  for (const step of steps) {
    await killedBefore([...wrap, process.execPath, cli, '--root', state, 'run', '--id', id, plan], {}, step.n);
    const byGc = step.n % 2 === 0;
    const d = byGc ? ctcHere(['gc', '--min-age', '0']) : ctcHere(['delete', '--force', id]);
    assert.is(d.status, 0, `step ${step.n} ${step.kind}: ${d.stderr}`);
    if (byGc) assert.is(d.stdout.trim(), id, `gc finds the container a crash before step ${step.n} left`);
    // ctc-init notices its executor is gone on its own (EOF): give it a moment.
    await until(() => JSON.stringify(snapshot(ns)) === JSON.stringify(before), `the host to be clean after step ${step.n}`, 5000).catch(
      () => undefined,
    );
    assert.equal(snapshot(ns), before, `nothing is left after a crash before step ${step.n} ${step.kind}`);
  }
  console.log(`    crash sweep: ${steps.length} steps of ${name}.plan`);
}

for (const name of ['hello', 'limits']) {
  test(`${name}: ctc killed before each step, delete --force or gc restores the host`, () => sweep(name));
}

test('bridge (in a network namespace of its own): ctc killed before each step, delete --force or gc restores the host', async () => {
  execFileSync('ip', ['netns', 'add', NS]);
  await sweep('bridge', ['nsenter', `--net=/run/netns/${NS}`, '--'], NS);
});

test('image (an overlay root from the busybox archive): ctc killed before each step, delete --force or gc restores the host', async () => {
  const archive = example('busybox.tar');
  const madeArchive = !existsSync(archive);
  if (madeArchive) busyboxImage(archive);
  const plan = example(`image-crash-${process.pid}.plan`); // beside the archive, where a relative one is found
  try {
    await sweep('image', [], undefined, plan);
  } finally {
    rmSync(plan, { force: true });
    if (madeArchive) rmSync(archive);
  }
});

test('gc leaves alone what something will finish: a running container, and a stopped one whose exit is recorded', () => {
  const plan = join(tmp.dir, 'gc.plan');
  const src = join(tmp.dir, 'gc.ct.ts');
  writeFileSync(
    src,
    "import { container, hostRootfs } from 'ctc';\nexport default container({ rootfs: hostRootfs(), process: { args: ['/bin/sh', '-c', 'exec sleep 30'] } });\n",
  );
  assert.is(ctc(['build', src, '-o', plan]).status, 0);
  const out = join(tmp.dir, 'gc.out');
  const fd = openSync(out, 'w');
  try {
    assert.is(
      spawnSync(process.execPath, [cli, '--root', state, 'run', '-d', '--id', 'gc-live', plan], { stdio: ['ignore', fd, fd] }).status,
      0,
    );
  } finally {
    closeSync(fd);
  }
  assert.is(ctc(['--root', state, 'gc', '--min-age', '0']).stdout, '', 'a running container is not garbage');
  assert.is(ctc(['--root', state, 'kill', 'gc-live', 'KILL']).status, 0);
  return until(() => JSON.parse(ctc(['--root', state, 'state', 'gc-live']).stdout).status === 'stopped', 'the container to stop').then(
    () => {
      assert.is(ctc(['--root', state, 'gc', '--min-age', '0']).stdout, '', 'stopped with its exit recorded: it waits for delete');
      assert.is(ctc(['--root', state, 'delete', 'gc-live']).status, 0);
    },
  );
});

test.run();
