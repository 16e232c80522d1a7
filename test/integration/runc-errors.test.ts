// runc's words where orchestrators parse them (issue 19). containerd's runc
// shim and podman run `kill`, `delete`, `state` on containers that stopped or
// are gone and match the answer's text: checkKillError takes "container not
// running", "no such process" and "does not exist" as "already finished",
// the shim's delete and state take "does not exist" as gone, podman's state
// takes "does not exist" as exited and its delete always passes --force. Each
// answer is checked through the launcher (dist/ctc) and through Node
// (CTC_NATIVE=0): runc's words first, then ctc's own line and hint, with
// runc 1.1's exit codes, in stderr and in the --log line's msg.

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxBundle } from '../busybox.ts';
import { ctc, hostResidue, root as projectRoot, tempDir, until, type Ran } from '../helpers.ts';

const tmp = tempDir();
const root = join(tmp.dir, 'state');
// others' tests may run beside this one: only what names our ids or root is compared (the runner checks the rest)
const ours = () => hostResidue([root]).filter((line) => /\/re\d\b/.test(line) || line.includes(root));
const before = ours();
const ids = ['re1', 're2', 're3', 're4', 're5'];
test.after(() => {
  for (const id of ids) ctc(['--root', root, 'delete', '--force', id]);
  tmp.remove();
});

const launcher = join(projectRoot, 'dist', 'ctc');
const sides = { launcher: {}, node: { CTC_NATIVE: '0' } } as const;

function run(side: keyof typeof sides, args: string[]): Ran {
  const r = spawnSync(launcher, ['--root', root, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...sides[side] },
    input: '',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Asserts the same answer from both sides. */
function both(args: string[], status: number, stderr: string): void {
  for (const side of Object.keys(sides) as (keyof typeof sides)[]) {
    const r = run(side, args);
    assert.is(r.stderr, stderr, `${side}: ctc ${args.join(' ')}`);
    assert.is(r.status, status, `${side}: ctc ${args.join(' ')}: ${r.stderr}`);
  }
}

/** create or run -d keep the caller's stdio for the container: a file, not a pipe. */
function detached(args: string[]): void {
  const out = join(tmp.dir, 'detached.out');
  const fd = openSync(out, 'w');
  try {
    const r = spawnSync(launcher, ['--root', root, ...args], { stdio: ['ignore', fd, fd], timeout: 30_000 });
    assert.is(r.status, 0, readFileSync(out, 'utf8'));
  } finally {
    closeSync(fd);
  }
}

let bundles = 0;
/** A fresh bundle dir each time (busyboxRootfs makes its links once). */
const bundle = (id: string, args: string[], linux?: Record<string, unknown>) =>
  busyboxBundle(join(tmp.dir, `b${++bundles}`), { id, args, linux });
const status = (id: string) => JSON.parse(ctc(['--root', root, 'state', id]).stdout).status as string;
const signalHint = '  hint: signal needs a container that is created or running or paused\n';
const notRunning = (id: string) =>
  `container not running: ctc: error CT_BAD_STATE: cannot signal container ${id}: it is stopped\n${signalHint}`;
const notExist = (id: string) => `container does not exist: ctc: error CT_NOT_FOUND: no container ${id} in ${root}\n`;

test('kill of a stopped container: "container not running", exit 1; delete of it succeeds', async () => {
  const dir = bundle('re1', ['/bin/true']);
  detached(['run', '-d', '--bundle', dir, 're1']);
  await until(() => status('re1') === 'stopped', 're1 to stop');
  both(['kill', 're1', 'KILL'], 1, notRunning('re1'));
  both(['kill', 're1'], 1, notRunning('re1'));
  both(
    ['start', 're1'],
    1,
    'cannot start a container that has stopped: ctc: error CT_BAD_STATE: cannot start container re1: it is stopped\n  hint: start needs a container that is created\n',
  );
  both(
    ['pause', 're1'],
    1,
    'container not running: ctc: error CT_BAD_STATE: cannot pause container re1: it is stopped\n  hint: pause needs a container that is running or created\n',
  );
  both(
    ['resume', 're1'],
    1,
    'container not paused: ctc: error CT_BAD_STATE: cannot resume container re1: it is stopped\n  hint: resume needs a container that is paused\n',
  );
  both(
    ['update', '--pids-limit', '10', 're1'],
    1,
    'container not running: ctc: error CT_BAD_STATE: cannot update container re1: it is stopped\n',
  );
  both(['events', '--stats', 're1'], 1, 'container with id re1 is not running: ctc: error CT_BAD_STATE: container re1 is not running\n');
  both(
    ['exec', 're1', '/bin/true'],
    1,
    'exec failed: cannot exec in a stopped container: ctc: error CT_BAD_STATE: cannot exec in container re1: it is stopped\n',
  );
  assert.is(run('node', ['delete', 're1']).status, 0);
  assert.not.ok(existsSync(join(root, 're1')));
  assert.equal(ours(), before);
});

test('kill of a created container whose init died: "container not running"; delete of it and of a created one succeed, on each side', async () => {
  for (const side of Object.keys(sides) as (keyof typeof sides)[]) {
    const dir = bundle('re2', ['/bin/sleep', '30']);
    detached(['create', '--bundle', dir, 're2']);
    process.kill(JSON.parse(ctc(['--root', root, 'state', 're2']).stdout).pid, 'SIGKILL');
    await until(() => status('re2') === 'stopped', "re2's init to die");
    both(['kill', 're2', 'KILL'], 1, notRunning('re2'));
    const del = run(side, ['delete', 're2']);
    assert.is(del.status, 0, `${side}: ${del.stderr}`);
    detached(['create', '--bundle', bundle('re3', ['/bin/sleep', '30']), 're3']);
    const created = run(side, ['delete', 're3']);
    assert.is(created.status, 0, `${side}: ${created.stderr}`);
    assert.equal(ours(), before, side);
  }
});

test('a missing id: kill, state, delete say "container does not exist", exit 1; delete --force succeeds silently', () => {
  both(['kill', 'nosuch', 'KILL'], 1, notExist('nosuch'));
  both(['kill', '--all', 'nosuch', 'KILL'], 1, notExist('nosuch'));
  both(['state', 'nosuch'], 1, notExist('nosuch'));
  both(['delete', 'nosuch'], 1, notExist('nosuch'));
  both(['delete', '--force', 'nosuch'], 0, '');
});

test('create of an id in use: "container with given ID already exists", exit 1, the container untouched', () => {
  const dir = bundle('re5', ['/bin/sleep', '30']);
  detached(['create', '--bundle', dir, 're5']);
  const exists = `container with given ID already exists: ctc: error CT_STATE_EXISTS: a container with id 're5' already exists (${join(root, 're5')})\n  hint: pick another id, or remove the old one with \`ctc delete --force\`\n`;
  for (const side of Object.keys(sides) as (keyof typeof sides)[]) {
    const r = run(side, ['create', '--bundle', dir, 're5']);
    assert.is(r.stderr.replace(/^ctc: config\.json:.*warning[\s\S]*?\n(?=\S)/, ''), exists, side);
    assert.is(r.status, 1, side);
  }
  assert.is(status('re5'), 'created');
  assert.is(run('node', ['delete', '--force', 're5']).status, 0);
});

test("--log: the line's msg starts with runc's words, ctc's code and hint kept (json and text)", async () => {
  const dir = bundle('re1', ['/bin/true']);
  detached(['run', '-d', '--bundle', dir, 're1']);
  await until(() => status('re1') === 'stopped', 're1 to stop');
  for (const side of Object.keys(sides) as (keyof typeof sides)[]) {
    const log = join(tmp.dir, `${side}.log`);
    assert.is(run(side, ['--log', log, '--log-format', 'json', 'kill', 're1', 'KILL']).status, 1);
    assert.is(run(side, ['--log', log, '--log-format', 'json', 'state', 'nosuch']).status, 1);
    assert.is(run(side, ['--log', log, 'kill', 're1', 'KILL']).status, 1);
    const [kill, state, text] = readFileSync(log, 'utf8').trim().split('\n');
    rmSync(log);
    const k = JSON.parse(kill);
    assert.is(k.level, 'error');
    assert.is(k.msg, 'container not running: error CT_BAD_STATE: cannot signal container re1: it is stopped', side);
    assert.is(k.code, 'CT_BAD_STATE');
    assert.is(k.hint, 'signal needs a container that is created or running or paused');
    assert.match(k.time, /^\d{4}-\d\d-\d\dT/);
    assert.is(JSON.parse(state).msg, `container does not exist: error CT_NOT_FOUND: no container nosuch in ${root}`, side);
    assert.match(
      text,
      /^time="[^"]+" level=error msg="container not running: error CT_BAD_STATE: cannot signal container re1: it is stopped"$/,
      side,
    );
  }
  assert.is(run('node', ['delete', 're1']).status, 0);
});

// containerd's shim runs `kill --all ID KILL` after the init of a container without a pid
// namespace of its own exits (ShouldKillAllOnExit): runc 1.1 kills what is left in its cgroup, exit 0.
test("kill --all of a stopped container kills what is left in its cgroup and succeeds, as runc's does", async () => {
  for (const side of Object.keys(sides) as (keyof typeof sides)[]) {
    const dir = bundle('re4', ['/bin/sh', '-c', 'sleep 30 & echo $! > /left; exit 0'], {
      namespaces: ['ipc', 'uts', 'mount', 'network'].map((type) => ({ type })),
    });
    detached(['run', '-d', '--bundle', dir, 're4']);
    await until(() => status('re4') === 'stopped', "re4's init to exit");
    const left = Number(readFileSync(join(dir, 'rootfs', 'left'), 'utf8'));
    assert.ok(existsSync(`/proc/${left}`), 'the sleep outlived the init');
    const r = run(side, ['kill', '--all', 're4', 'KILL']);
    assert.is(r.status, 0, `${side}: ${r.stderr}`);
    assert.is(r.stderr, '');
    await until(
      () => !existsSync(`/proc/${left}`) || readFileSync(`/proc/${left}/stat`, 'utf8').split(') ')[1][0] === 'Z',
      'the sleep to die',
    );
    assert.is(run(side, ['delete', 're4']).status, 0);
    assert.is(run(side, ['kill', '--all', 're4', 'KILL']).status, 1, 'and a deleted one is gone');
    assert.equal(ours(), before, side);
  }
});

test.run();
