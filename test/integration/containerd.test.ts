// ctc under a real containerd (Debian's 1.6, started here with its own root,
// state and socket in a temporary directory), through its runc shim, as
// `ctr run --runc-binary <ctc>`: the calls and expectations recorded in
// docs/design.md ("Orchestrators"). The image is a busybox rootfs given with
// --rootfs: no registry, no snapshotter.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxRootfs } from '../busybox.ts';
import { hostResidue, root, tempDir, until } from '../helpers.ts';

// What an orchestrator is given as its runtime binary: the launcher, `ctc` itself.
const launcher = join(root, 'dist', 'ctc');
const tmp = tempDir('ctc-containerd-');
const sock = join(tmp.dir, 'containerd.sock');
const rootfs = busyboxRootfs(tmp.dir);
// The shim runs the runtime with --root /run/containerd/runc/<namespace>; the
// cgroups go under /default/<id>. Both are checked and removed by this test.
const shimRoot = '/run/containerd/runc/default';
const hadRunContainerd = existsSync('/run/containerd');
const hadDefaultCgroup = existsSync('/sys/fs/cgroup/memory/default');
let daemon: ChildProcess | undefined;

const ctr = (...args: string[]) => spawnSync('ctr', ['--address', sock, ...args], { encoding: 'utf8', timeout: 60_000 });

test.before(async () => {
  writeFileSync(
    join(tmp.dir, 'config.toml'),
    [
      'version = 2',
      `root = "${join(tmp.dir, 'root')}"`,
      `state = "${join(tmp.dir, 'state')}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${sock}"`,
    ].join('\n'),
  );
  daemon = spawn('containerd', ['--config', join(tmp.dir, 'config.toml')], { stdio: 'ignore' });
  await until(() => existsSync(sock) && ctr('version').status === 0, 'containerd to answer', 20_000);
});

test.after(async () => {
  for (const id of ['cd-fg', 'cd-bg', 'cd-race', 'cd-app-pid', 'cd-app', 'cd-sandbox']) {
    ctr('task', 'kill', '-s', 'SIGKILL', id);
    ctr('task', 'delete', id);
    ctr('container', 'delete', id);
  }
  daemon?.kill('SIGTERM');
  await new Promise((r) => (daemon?.exitCode !== null ? r(undefined) : daemon.once('exit', r)));
  if (!hadDefaultCgroup) for (const h of readdirSync('/sys/fs/cgroup')) rmdirQuiet(join('/sys/fs/cgroup', h, 'default'));
  if (!hadRunContainerd) rmSync('/run/containerd', { recursive: true, force: true });
  tmp.remove();
});

function rmdirQuiet(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not there, or not empty (then the residue assertions below say so)
  }
}

const leftovers = (id: string) => [
  ...(existsSync(join(shimRoot, id)) ? [`state ${join(shimRoot, id)}`] : []),
  ...readdirSync('/sys/fs/cgroup')
    .filter((h) => existsSync(join('/sys/fs/cgroup', h, 'default', id)))
    .map((h) => `cgroup ${h}/default/${id}`),
];

test('ctr run --rm with ctc as the runtime prints the output and returns the exit code', () => {
  const before = hostResidue();
  const r = ctr('run', '--rm', '--runc-binary', launcher, '--rootfs', rootfs, 'cd-fg', '/bin/sh', '-c', 'echo hi; exit 4');
  assert.is(r.stdout, 'hi\n', r.stderr);
  assert.is(r.status, 4, r.stderr);
  assert.equal(leftovers('cd-fg'), []);
  assert.equal(hostResidue(), before);
});

test('ctr run -d, task exec, ps, pause/resume, kill and delete', async () => {
  const r = ctr('run', '-d', '--runc-binary', launcher, '--rootfs', rootfs, 'cd-bg', '/bin/sleep', '300');
  assert.is(r.status, 0, r.stderr);
  const e = ctr('task', 'exec', '--exec-id', 'e1', 'cd-bg', '/bin/sh', '-c', 'echo exec; exit 3');
  assert.is(e.stdout, 'exec\n', e.stderr);
  assert.is(e.status, 3);
  const ps = ctr('task', 'ps', 'cd-bg');
  assert.is(ps.status, 0, ps.stderr);
  assert.match(ps.stdout, /PID\s+INFO\n\d+/);
  assert.is(ctr('task', 'pause', 'cd-bg').status, 0);
  assert.match(ctr('task', 'ls').stdout, /cd-bg\s+\d+\s+PAUSED/);
  assert.is(ctr('task', 'resume', 'cd-bg').status, 0);
  assert.match(ctr('task', 'ls').stdout, /cd-bg\s+\d+\s+RUNNING/);
  assert.is(ctr('task', 'kill', '-s', 'SIGKILL', 'cd-bg').status, 0);
  await until(() => /cd-bg\s+\d+\s+STOPPED/.test(ctr('task', 'ls').stdout), 'the task to stop');
  const del = ctr('task', 'delete', 'cd-bg');
  assert.is(del.status, 0, del.stderr);
  assert.is(ctr('container', 'delete', 'cd-bg').status, 0);
  assert.equal(leftovers('cd-bg'), []);
});

// A pod's stop races its containers' exits: the shim sends `kill` to a container whose init has
// just died, and takes only runc's words for "already finished" (checkKillError); any other answer
// is an error the CRI does not forgive, and the pod never stops. The wrapper is no mock: it runs the
// launcher, and only fixes that order (the init is killed, and reaped by the shim, before a kill).
const diesFirst = `#!/bin/sh
for a; do
  [ "$prev" = --root ] && root=$a
  [ -n "$seen" ] && [ -z "$id" ] && [ "\${a#-}" = "$a" ] && id=$a
  [ "$a" = kill ] && seen=1
  prev=$a
done
if [ -n "$id" ]; then
  pid=$(${launcher} --root "$root" state "$id" | sed -n 's/^  "pid": \\([0-9]*\\),$/\\1/p')
  kill -9 "$pid"
  n=0; while [ -e "/proc/$pid" ] && [ $n -lt 500 ]; do sleep 0.01; n=$((n + 1)); done
fi
exec ${launcher} "$@"
`;

test('a kill that finds the init already dead is "process already finished" to the shim; the task stops and is deleted', async () => {
  const wrapper = join(tmp.dir, 'dies-first');
  writeFileSync(wrapper, diesFirst, { mode: 0o755 });
  const r = ctr('run', '-d', '--runc-binary', wrapper, '--rootfs', rootfs, 'cd-race', '/bin/sleep', '300');
  assert.is(r.status, 0, r.stderr);
  const kill = ctr('task', 'kill', '-s', 'SIGKILL', 'cd-race');
  assert.match(kill.stderr, /process already finished: not found/, `the shim took the answer for runc's: ${kill.stderr}`);
  await until(() => /cd-race\s+\d+\s+STOPPED/.test(ctr('task', 'ls').stdout), 'the task to stop');
  const del = ctr('task', 'delete', 'cd-race');
  assert.is(del.status, 0, del.stderr);
  assert.is(ctr('container', 'delete', 'cd-race').status, 0);
  assert.equal(leftovers('cd-race'), []);
});

// What containerd's CRI plugin does for a pod: a sandbox task, then app tasks that join its
// namespaces by path (ctr's --with-ns writes the same linux.namespaces[].path the CRI does).
const taskPid = (id: string) => Number(new RegExp(`^${id}\\s+(\\d+)\\s`, 'm').exec(ctr('task', 'ls').stdout)?.[1]);
const ns = (pid: number, kind: string) => readlinkSync(`/proc/${pid}/ns/${kind}`);

test("a pod as the CRI makes it: app tasks join the sandbox task's ipc, uts, network (and pid) by path; exec lands there too", async () => {
  const sandbox = ctr('run', '-d', '--runc-binary', launcher, '--rootfs', rootfs, 'cd-sandbox', '/bin/sleep', '300');
  assert.is(sandbox.status, 0, sandbox.stderr);
  const sb = taskPid('cd-sandbox');
  assert.ok(sb > 0, 'the sandbox task has a pid');
  const withNs = (kinds: string[]) => kinds.flatMap((k) => ['--with-ns', `${k === 'net' ? 'network' : k}:/proc/${sb}/ns/${k}`]);
  for (const [id, kinds] of [
    ['cd-app', ['ipc', 'uts', 'net']],
    ['cd-app-pid', ['ipc', 'uts', 'net', 'pid']],
  ] as const) {
    const app = ctr('run', '-d', '--runc-binary', launcher, ...withNs([...kinds]), '--rootfs', rootfs, id, '/bin/sleep', '300');
    assert.is(app.status, 0, `${id}: ${app.stderr}`);
    const pid = taskPid(id);
    for (const k of kinds) assert.is(ns(pid, k), ns(sb, k), `${id}'s init is in the sandbox's ${k} namespace`);
    assert.is.not(ns(pid, 'mnt'), ns(sb, 'mnt'), `${id} keeps a mount namespace of its own`);
    const exec = ctr(
      'task',
      'exec',
      '--exec-id',
      'look',
      id,
      '/bin/sh',
      '-c',
      `for k in ${kinds.join(' ')}; do readlink /proc/self/ns/$k; done`,
    );
    assert.is(exec.status, 0, exec.stderr);
    assert.equal(
      exec.stdout.trim().split('\n'),
      kinds.map((k) => ns(sb, k)),
      `what ${id} execs is in the sandbox's namespaces`,
    );
  }
  // the pod stops: the sandbox first, then its containers; every task and container goes. The
  // sandbox's init was pid 1 of the namespace cd-app-pid shares: its end took cd-app-pid's init
  // with it, so that kill is 'process already finished', which the CRI takes as done.
  for (const id of ['cd-sandbox', 'cd-app', 'cd-app-pid']) {
    const kill = ctr('task', 'kill', '-s', 'SIGKILL', id);
    assert.ok(
      kill.status === 0 || (id === 'cd-app-pid' && /process already finished: not found/.test(kill.stderr)),
      `${id}: ${kill.stderr}`,
    );
    await until(() => new RegExp(`${id}\\s+\\d+\\s+STOPPED`).test(ctr('task', 'ls').stdout), `${id} to stop`);
    const del = ctr('task', 'delete', id);
    assert.is(del.status, 0, `${id}: ${del.stderr}`);
    assert.is(ctr('container', 'delete', id).status, 0);
    assert.equal(leftovers(id), []);
  }
});

test.run();
