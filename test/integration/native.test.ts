// The native launcher (dist/ctc, native/launcher/) against the TypeScript
// executor, the reference, on the same plans and bundles: the same output
// and exit code, the same journal and state.json, the same host afterwards,
// and the same rollback at every step. CTC_NODE names the Node the launcher
// hands over to: a missing one proves that a command never left C, and a
// wrapper that logs CTC_NATIVE_FAILED proves which side applied a failed run.

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePlan } from '../../plan/text.ts';
import { busyboxBundle } from '../busybox.ts';
import { cli, ctc, example, hostResidue, mountTable, root, tempDir, type Ran } from '../helpers.ts';

const tmp = tempDir();
test.after(() => tmp.remove());

const launcher = join(root, 'dist', 'ctc');
const NO_NODE = { CTC_NODE: '/nonexistent/node' };

function native(args: string[], env: Record<string, string> = {}): Ran {
  const r = spawnSync(launcher, args, { encoding: 'utf8', cwd: root, env: { ...process.env, ...env }, input: '', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** create and run -d: the container keeps the caller's stdio, so a file, not a pipe spawnSync would wait on */
function detached(which: 'ts' | 'native', args: string[], env: Record<string, string> = {}): Ran {
  const out = join(tmp.dir, 'detached.out');
  const fd = openSync(out, 'w');
  try {
    const [cmd, argv] = which === 'ts' ? [process.execPath, [cli, ...args]] : [launcher, args];
    const r = spawnSync(cmd, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd], timeout: 60_000 });
    return { status: r.status, stdout: '', stderr: readFileSync(out, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

const handedOver = (r: Ran) => r.status === 127 && r.stderr.includes('CT_NODE_MISSING');

function plan(name: string): string {
  const file = join(tmp.dir, `${name}.plan`);
  assert.is(ctc(['build', example(`${name}.ct.ts`), '-o', file]).status, 0);
  return file;
}

test('build through the launcher (from the snapshot, no Node in between): the same plan, the same errors', () => {
  const viaCli = join(tmp.dir, 'cli.plan');
  const viaLauncher = join(tmp.dir, 'launcher.plan');
  assert.is(ctc(['build', example('limits.ct.ts'), '-o', viaCli]).status, 0);
  const r = native(['build', example('limits.ct.ts'), '-o', viaLauncher]);
  assert.is(r.status, 0, r.stderr);
  assert.is(readFileSync(viaLauncher, 'utf8'), readFileSync(viaCli, 'utf8'));
  const bad = join(tmp.dir, 'bad.ct.ts');
  writeFileSync(
    bad,
    "import { container } from 'ctc';\nexport default container({ namespaces: ['mount', 'pidd'], process: { args: ['/bin/true'] } });\n",
  );
  const e1 = ctc(['build', bad]);
  const e2 = native(['build', bad]);
  assert.is(e2.status, e1.status);
  assert.is(e2.stderr, e1.stderr);
  assert.match(e2.stderr, /bad\.ct\.ts:2:\d+: error/);
});

test('a plan this host has not run: the launcher builds its image from the text and runs it alone, with the same output as Node', () => {
  const file = plan('hello');
  const cache = join(tmp.dir, 'first-run-cache');
  mkdirSync(cache, { mode: 0o700 });
  const c = native(['run', '--id', 'nat-hello', file], { ...NO_NODE, CTC_CACHE_DIR: cache });
  assert.is(c.status, 0, c.stderr);
  const ts = ctc(['run', '--id', 'nat-hello', file], { env: { CTC_CACHE_DIR: cache } });
  assert.is(ts.status, 0, ts.stderr);
  assert.is(c.stdout, ts.stdout);
  assert.ok(c.stdout.includes('hostname: hello'));
  const again = native(['run', '--id', 'nat-hello', file], { ...NO_NODE, CTC_CACHE_DIR: cache });
  assert.is(again.stdout, ts.stdout, 'and from the image Node wrote meanwhile');
});

test('a changed plan is never run from the image of the old one', () => {
  const file = plan('hello');
  assert.is(ctc(['run', '--id', 'nat-old', file]).status, 0);
  writeFileSync(file, readFileSync(file, 'utf8').replace('name=hello', 'name=other'));
  assert.ok(handedOver(native(['run', '--id', 'nat-old', file], NO_NODE)));
  assert.ok(handedOver(native(['run', '--id', 'nat-old', '--no-pivot', file], NO_NODE)), 'an option it does not know: handed over');
});

test('container commands read no project config: the launcher runs a plan with one above it or above the current directory; --config goes to the CLI', () => {
  const dir = join(tmp.dir, 'with-config');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  const file = join(dir, 'sub', 'hello.plan');
  assert.is(ctc(['build', example('hello.ct.ts'), '-o', file]).status, 0);
  assert.is(ctc(['run', '--id', 'nat-cfg', file]).status, 0);
  writeFileSync(join(dir, '.ctcrc.json'), '{}\n');
  assert.is(native(['run', '--id', 'nat-cfg', file], NO_NODE).status, 0, 'a config above the plan: the launcher runs it');
  const r = spawnSync(launcher, ['run', '--id', 'nat-cfg', 'hello.plan'], {
    cwd: join(dir, 'sub'),
    encoding: 'utf8',
    env: { ...process.env, ...NO_NODE },
  });
  assert.is(r.status, 0, `a config above the current directory: the launcher runs it: ${r.stderr}`);
  assert.ok(
    handedOver(native(['--config', join(dir, '.ctcrc.json'), 'run', '--id', 'nat-cfg', file], NO_NODE)),
    '--config: the CLI reads it',
  );
});

test('an image anybody but root could have written is not used', () => {
  const file = plan('hello');
  const cache = join(tmp.dir, 'open-cache');
  mkdirSync(cache, { mode: 0o700 });
  assert.is(ctc(['run', '--id', 'nat-trust', file], { env: { CTC_CACHE_DIR: cache } }).status, 0);
  assert.is(native(['run', '--id', 'nat-trust', file], { ...NO_NODE, CTC_CACHE_DIR: cache }).status, 0, 'its own image: used');
  chmodSync(cache, 0o777);
  assert.ok(
    handedOver(native(['run', '--id', 'nat-trust', file], { ...NO_NODE, CTC_CACHE_DIR: cache })),
    'a world-writable cache: not trusted',
  );
});

test("the exit code of the container is the launcher's", () => {
  const dir = busyboxBundle(join(tmp.dir, 'nat-exit'), { id: 'nat-exit', args: ['/bin/sh', '-c', 'echo out; exit 3'] });
  assert.is(ctc(['run', '--bundle', dir, 'nat-exit']).status, 3);
  const c = native(['run', '--bundle', dir, 'nat-exit'], NO_NODE);
  assert.is(c.status, 3, c.stderr);
  assert.is(c.stdout, 'out\n');
});

/** journal and state.json with what differs between two runs (pids, times) made equal */
function record(stateRoot: string, id: string): { journal: string; state: string } {
  const dir = join(stateRoot, id);
  const norm = (s: string) =>
    s
      .replace(/("(?:pid|startTime|initStartTime|monitorPid|monitorStartTime)": ?)\d+/g, '$1N')
      .replace(/"created": "[^"]+"/, '"created": "T"');
  return { journal: norm(readFileSync(join(dir, 'journal'), 'utf8')), state: norm(readFileSync(join(dir, 'state.json'), 'utf8')) };
}

test('create, start, delete: the same journal, state and cgroups as the TypeScript executor', () => {
  const stateRoot = join(tmp.dir, 'state');
  const id = 'nat-life';
  const dir = busyboxBundle(join(tmp.dir, id), { id, args: ['/bin/sleep', '30'] });
  const before = hostResidue([stateRoot]);
  const cgroup = `/sys/fs/cgroup/pids/ctc/${id}`;
  const run = (create: (args: string[]) => Ran, start: (args: string[]) => Ran, del: (args: string[]) => Ran) => {
    const c = create(['--root', stateRoot, 'create', '--bundle', dir, id]);
    assert.is(c.status, 0, c.stderr);
    const made = record(stateRoot, id);
    assert.ok(
      !existsSync('/sys/fs/cgroup/pids') || readFileSync(join(cgroup, 'pids.max'), 'utf8').trim() === '100',
      'the pids limit is set',
    );
    assert.is(JSON.parse(ctc(['--root', stateRoot, 'state', id]).stdout).status, 'created');
    assert.is(start(['--root', stateRoot, 'start', id]).status, 0);
    assert.is(JSON.parse(ctc(['--root', stateRoot, 'state', id]).stdout).status, 'running');
    assert.is(del(['--root', stateRoot, 'delete', '--force', id]).status, 0);
    assert.equal(hostResidue([stateRoot]), before, 'nothing is left');
    return made;
  };
  const ts = run((a) => detached('ts', a), ctc, ctc);
  const c = run(
    (a) => detached('native', a, NO_NODE),
    (a) => native(a, NO_NODE),
    (a) => native(a, NO_NODE),
  );
  assert.is(c.journal, ts.journal);
  assert.is(c.state, ts.state);
});

test('state and kill: the same answers as the CLI, in every status', () => {
  const stateRoot = join(tmp.dir, 'state-kill');
  const id = 'nat-kill';
  const dir = busyboxBundle(join(tmp.dir, id), { id, args: ['/bin/sleep', '60'] });
  const same = (status: string) => {
    const c = native(['--root', stateRoot, 'state', id], NO_NODE);
    assert.is(c.status, 0, c.stderr);
    assert.is(c.stdout, ctc(['--root', stateRoot, 'state', id]).stdout);
    assert.is(JSON.parse(c.stdout).status, status);
  };
  assert.is(detached('ts', ['--root', stateRoot, 'create', '--bundle', dir, id]).status, 0);
  try {
    same('created');
    assert.is(native(['--root', stateRoot, 'start', id], NO_NODE).status, 0);
    same('running');
    assert.is(native(['--root', stateRoot, 'kill', id, 'KILL'], NO_NODE).status, 0);
    const end = Date.now() + 5000;
    while (JSON.parse(ctc(['--root', stateRoot, 'state', id]).stdout).status !== 'stopped' && Date.now() < end);
    same('stopped');
    assert.ok(handedOver(native(['--root', stateRoot, 'kill', id, 'KILL'], NO_NODE)), 'a stopped container: the CLI refuses it');
  } finally {
    assert.is(native(['--root', stateRoot, 'delete', '--force', id], NO_NODE).status, 0);
  }
});

test('two creates of one id at once: exactly one wins, the other says so and leaves the winner intact', async () => {
  const stateRoot = join(tmp.dir, 'state-race');
  const id = 'nat-race';
  const dir = busyboxBundle(join(tmp.dir, id), { id, args: ['/bin/sleep', '60'] });
  const before = hostResidue([stateRoot]);
  // each side once through Node, once through the launcher (whose image the first round leaves)
  for (const [a, b] of [
    ['ts', 'ts'],
    ['native', 'native'],
  ] as const) {
    const start = (which: 'ts' | 'native', n: number) => {
      const out = openSync(join(tmp.dir, `race-${n}.out`), 'w');
      const [cmd, argv] = which === 'ts' ? [process.execPath, [cli]] : [launcher, []];
      const child = spawn(cmd, [...argv, '--root', stateRoot, 'create', '--bundle', dir, id], { stdio: ['ignore', out, out] });
      closeSync(out);
      return new Promise<number | null>((resolve) => child.on('close', resolve));
    };
    const codes = await Promise.all([start(a, 1), start(b, 2)]);
    const outs = [1, 2].map((n) => readFileSync(join(tmp.dir, `race-${n}.out`), 'utf8'));
    assert.equal([...codes].sort(), [0, 1], `one wins: ${outs.join(' | ')}`);
    assert.match(outs[codes.indexOf(1)], /CT_STATE_EXISTS/);
    assert.is(JSON.parse(ctc(['--root', stateRoot, 'state', id]).stdout).status, 'created', "the winner's container is intact");
    assert.is(ctc(['--root', stateRoot, 'delete', '--force', id]).status, 0);
    assert.equal(hostResidue([stateRoot]), before);
  }
});

test('exec: the same process as the TypeScript CLI makes, and a failed exec reported the same way', () => {
  const stateRoot = join(tmp.dir, 'state-exec');
  const id = 'nat-exec';
  const dir = busyboxBundle(join(tmp.dir, id), { id, args: ['/bin/sleep', '60'] });
  assert.is(detached('ts', ['--root', stateRoot, 'run', '-d', '--bundle', dir, id]).status, 0);
  try {
    const probe = [
      '/bin/sh',
      '-c',
      'grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status; cat /proc/self/cgroup | grep pids; hostname; exit 4',
    ];
    const ts = ctc(['--root', stateRoot, 'exec', id, ...probe]);
    const c = native(['--root', stateRoot, 'exec', id, ...probe], NO_NODE);
    assert.is(ts.status, 4, ts.stderr);
    assert.is(c.status, 4, c.stderr);
    assert.is(c.stdout, ts.stdout);
    assert.ok(c.stdout.includes(`/ctc/${id}`), `in the container's cgroup: ${c.stdout}`);
    const tsFail = ctc(['--root', stateRoot, 'exec', id, '/nonexistent']);
    const cFail = native(['--root', stateRoot, 'exec', id, '/nonexistent']);
    assert.is(cFail.status, tsFail.status);
    assert.is(cFail.stderr, tsFail.stderr);
    assert.ok(cFail.stderr.includes('[ENOENT]'), cFail.stderr);
    assert.is(JSON.parse(ctc(['--root', stateRoot, 'state', id]).stdout).status, 'running', 'the container goes on');
  } finally {
    assert.is(ctc(['--root', stateRoot, 'delete', '--force', id]).status, 0);
  }
});

test('a failure at each step is rolled back by the launcher, and reported by the CLI', () => {
  const file = plan('limits');
  assert.is(ctc(['run', '--id', 'nat-fail', file]).status, 0);
  // Node, saying whether the launcher handed it a failure to report
  const wrapper = join(tmp.dir, 'node-wrapper');
  writeFileSync(wrapper, `#!/bin/sh\necho "native failure: $CTC_NATIVE_FAILED" >&2\nexec ${process.execPath} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const mounts = mountTable();
  // the host is shared with other runs: a ctc-init counts when it has this test's wrapper in its environment
  const ours = () =>
    hostResidue().filter((entry) => {
      const pid = /^process (\d+) /.exec(entry)?.[1];
      if (!pid) return true;
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').includes(wrapper);
      } catch {
        return false; // gone meanwhile
      }
    });
  const residue = ours();
  for (const step of parsePlan(readFileSync(file, 'utf8')).steps) {
    const r = native(['run', '--id', 'nat-fail', file], { CTC_FAIL_STEP: String(step.n), CTC_NODE: wrapper });
    assert.is(r.status, 1, `step ${step.n}: ${r.stderr}`);
    assert.ok(r.stderr.includes(`native failure: ${step.n}:5`), `step ${step.n} ${step.kind} failed in the launcher (EIO): ${r.stderr}`);
    assert.ok(r.stderr.includes(`error CT_STEP_FAILED: step ${step.n} ${step.kind}`), `step ${step.n} is named: ${r.stderr}`);
    assert.equal(ours(), residue, `nothing is left after a failure at step ${step.n} ${step.kind}`);
    assert.equal(mountTable(), mounts, `the mount table is as before after step ${step.n}`);
  }
});

test.run();
