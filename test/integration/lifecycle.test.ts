// The runc-compatible lifecycle with a busybox bundle: create, start, state,
// ps, exec, pause/resume, kill, delete, run (foreground and -d), checked
// against the host (processes, cgroups, state) as well as ctc's answers.

import { openSync, closeSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detectCgroups } from '../../executor/host/cgroups/index.ts';
import { procStat } from '../../executor/container/proc.ts';
import { busyboxBundle } from '../busybox.ts';
import { frozen, inCgroup } from '../cgroup-view.ts';
import { cli, ctc, hostResidue, tempDir, until } from '../helpers.ts';

const tmp = tempDir();
const root = join(tmp.dir, 'state');
const before = hostResidue([root]);
test.after(() => {
  // whatever a failed test left: remove it, then let the suite's residue check judge
  for (const id of ['lc1', 'lc2', 'lc3', 'lc4', 'lc5', 'lc6', 'lc7', 'lc8', 'lc9']) ctc(['--root', root, 'delete', '--force', id]);
  tmp.remove();
});

const R = (...args: string[]) => ctc(['--root', root, ...args]);
const bundle = (id: string, args: string[], extra: Parameters<typeof busyboxBundle>[1]['extra'] = {}) =>
  busyboxBundle(join(tmp.dir, id), { id, args, extra });

/** runc's create keeps the caller's stdio for the container: give it a file, not a pipe we wait on. */
function createDetached(id: string, dir: string, extra: string[] = []) {
  const out = join(tmp.dir, `${id}.out`);
  const fd = openSync(out, 'w');
  try {
    const r = spawnSync(process.execPath, [cli, '--root', root, 'create', '--bundle', dir, ...extra, id], {
      stdio: ['ignore', fd, fd],
      timeout: 30_000,
    });
    return { status: r.status, out: () => readFileSync(out, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

const state = (id: string) => JSON.parse(R('state', id).stdout);
const ancestors = (pid: number): number[] => {
  const chain: number[] = [];
  for (let p = procStat(pid)?.ppid ?? 0; p > 1; p = procStat(p)?.ppid ?? 0) chain.push(p);
  return chain;
};
const comm = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
};

test('create → created with a pid; start → running; kill → stopped; delete leaves nothing', async () => {
  const dir = bundle('lc1', ['/bin/sh', '-c', 'echo started; exec sleep 30']);
  const pidFile = join(tmp.dir, 'lc1.pid');
  const created = createDetached('lc1', dir, ['--pid-file', pidFile]);
  assert.is(created.status, 0, created.out());
  const s = state('lc1');
  assert.is(s.status, 'created');
  assert.ok(s.pid > 0);
  assert.is(readFileSync(pidFile, 'utf8'), String(s.pid), 'the pid file holds the init pid');
  assert.is(s.bundle, dir);
  assert.not.match(created.out(), /started/, 'the process has not run yet');
  assert.ok(detectCgroups().pids('/ctc/lc1').includes(s.pid), 'the init is in its cgroup before it runs');
  assert.is(R('start', 'lc1').status, 0);
  await until(() => created.out().includes('started'), 'the process to run');
  assert.is(state('lc1').status, 'running');
  assert.is(R('start', 'lc1').status, 1, 'a running container cannot be started again');
  assert.is(R('kill', 'lc1', 'KILL').status, 0);
  await until(() => state('lc1').status === 'stopped', 'the container to stop');
  const del = R('delete', 'lc1');
  assert.is(del.status, 0, del.stderr);
  assert.not.ok(existsSync(join(root, 'lc1')));
  assert.equal(hostResidue([root]), before);
});

test('after create and run -d no node process is left: ctc-init monitors the container', async () => {
  const dir = bundle('lc2', ['/bin/sleep', '30']);
  const r = spawnSync(process.execPath, [cli, '--root', root, 'run', '-d', '--bundle', dir, 'lc2'], { stdio: 'ignore', timeout: 30_000 });
  assert.is(r.status, 0);
  const s = state('lc2');
  assert.is(s.status, 'running');
  const up = ancestors(s.pid);
  assert.is(comm(up[0]), 'ctc-init', "the init is the monitor's child");
  assert.not.ok(
    up.some((p) => comm(p) === 'node' && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('ctc.mjs')),
    'no ctc node process above it',
  );
  assert.equal(JSON.parse(R('ps', '--format', 'json', 'lc2').stdout), [s.pid]);
  const list = JSON.parse(R('list', '--format', 'json').stdout);
  assert.ok(list.some((c: { id: string; status: string }) => c.id === 'lc2' && c.status === 'running'));
  const del = R('delete', 'lc2');
  assert.is(del.status, 1, 'a running container is not deleted without --force');
  assert.match(del.stderr, /CT_BAD_STATE/);
  assert.is(R('delete', '--force', 'lc2').status, 0);
  assert.not.ok(existsSync(join(root, 'lc2')));
  assert.is(R('delete', '--force', 'lc2').status, 0, 'deleting a container that is gone with --force is fine');
  assert.is(R('delete', 'lc2').status, 1, 'and an error without');
  assert.equal(hostResidue([root]), before);
});

test("exec runs in the container's namespaces and cgroup; pause and resume freeze it", async () => {
  try {
    const dir = bundle('lc3', ['/bin/sh', '-c', 'echo hi > /tmp/mark; exec sleep 30']);
    spawnSync(process.execPath, [cli, '--root', root, 'run', '-d', '--bundle', dir, 'lc3'], { stdio: 'ignore' });
    const s = state('lc3');
    await until(() => R('exec', 'lc3', 'cat', '/tmp/mark').stdout === 'hi\n', "exec to see the container's files");
    const e = R('exec', 'lc3', '/bin/sh', '-c', 'hostname; echo $$; id -u; cat /proc/self/cgroup');
    assert.is(e.status, 0, e.stderr);
    const [hostname, pid, uid] = e.stdout.trim().split('\n');
    assert.match(e.stdout, inCgroup('/ctc/lc3'), "the exec'd process is in the container's cgroup (v1's memory line, v2's 0::)");
    assert.is(hostname, 'bb');
    assert.ok(Number(pid) > 1, "a new process in the container's pid namespace");
    assert.is(uid, '0');
    assert.is(R('exec', '--user', '65534:65534', 'lc3', 'id', '-u').stdout, '65534\n');
    assert.is(R('exec', 'lc3', '/bin/sh', '-c', 'exit 5').status, 5, "exec returns the process's exit code");
    const pidFile = join(tmp.dir, 'exec.pid');
    // detached, the process keeps the stdio it was given: not a pipe this test would wait on
    const detached = spawnSync(process.execPath, [cli, '--root', root, 'exec', '--detach', '--pid-file', pidFile, 'lc3', 'sleep', '20'], {
      stdio: 'ignore',
    });
    assert.is(detached.status, 0);
    const execPid = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(detectCgroups().pids('/ctc/lc3').includes(execPid), "the detached exec process is in the container's cgroup");
    assert.is(R('pause', 'lc3').status, 0);
    assert.is(state('lc3').status, 'paused');
    assert.ok(frozen(s.pid), 'the init is frozen (v2: cgroup.events says frozen 1; v1: it sleeps in D)');
    assert.is(R('resume', 'lc3').status, 0);
    assert.is(state('lc3').status, 'running');
    assert.is(R('kill', '--all', 'lc3', 'KILL').status, 0);
    await until(() => state('lc3').status === 'stopped', 'the container to stop');
    assert.is(R('delete', 'lc3').status, 0);
  } finally {
    R('delete', '--force', 'lc3'); // a failed assertion leaves nothing for the next test's residue check
  }
  assert.equal(hostResidue([root]), before);
});

test('run --bundle in the foreground returns the exit code and removes everything', () => {
  const dir = bundle('lc4', ['/bin/sh', '-c', 'echo out; exit 3']);
  const r = R('run', '--bundle', dir, 'lc4');
  assert.is(r.status, 3, r.stderr);
  assert.is(r.stdout, 'out\n');
  assert.not.ok(existsSync(join(root, 'lc4')));
  assert.equal(hostResidue([root]), before);
});

test('--no-pivot moves the root instead of pivot_root, and the container works the same', () => {
  const dir = bundle('lc6', ['/bin/sh', '-c', 'cat /proc/self/mountinfo | head -1 | cut -d" " -f5; hostname']);
  const r = R('run', '--no-pivot', '--bundle', dir, 'lc6');
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['/', 'bb']);
  assert.equal(hostResidue([root]), before);
});

test('a parent death signal reaches the container when its monitor dies', async () => {
  const src = join(tmp.dir, 'orphan.ct.ts');
  writeFileSync(
    src,
    `import { container, hostRootfs } from 'ctc';\nexport default container({ rootfs: hostRootfs(), process: { args: ['/bin/sleep', '60'], parentDeathSignal: 'SIGKILL' } });\n`,
  );
  assert.is(ctc(['build', src]).status, 0);
  const r = spawnSync(process.execPath, [cli, '--root', root, 'run', '-d', '--id', 'lc7', join(tmp.dir, 'orphan.plan')], {
    stdio: 'ignore',
  });
  assert.is(r.status, 0);
  const raw = JSON.parse(readFileSync(join(root, 'lc7', 'state.json'), 'utf8'));
  assert.ok(raw.monitorPid > 0, 'ctc-init stayed as the monitor');
  assert.is(state('lc7').status, 'running');
  process.kill(raw.monitorPid, 'SIGKILL');
  await until(() => state('lc7').status === 'stopped', 'the container to die with its monitor');
  assert.is(R('delete', 'lc7').status, 0);
  assert.equal(hostResidue([root]), before);
});

test('an unimplemented config field is a coded error naming it; errors go to --log as JSON lines', () => {
  const dir = bundle('lc5', ['/bin/true'], {});
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  config.linux.netDevices = { eth1: { name: 'ceth1' } };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const log = join(tmp.dir, 'log.json');
  const r = ctc(['--root', root, '--log', log, '--log-format', 'json', 'run', '--bundle', dir, 'lc5']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /config\.json:\d+:\d+: error CT_OCI_UNSUPPORTED: linux\.netDevices: /);
  assert.match(r.stderr, /hint: .*veth/);
  const lines = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.is(lines[0].level, 'error');
  assert.match(lines[0].msg, /netDevices/);
  assert.ok(typeof lines[0].time === 'string');
  assert.not.ok(existsSync(join(root, 'lc5')));
});

test('ids are checked, and an id in use is refused', () => {
  const r = R('state', 'bad/id');
  assert.is(r.status, 1);
  assert.match(r.stderr, /CT_ID/);
  assert.ok(
    R('state', 'nosuch').stderr.startsWith(`container does not exist: ctc: error CT_NOT_FOUND: no container nosuch in ${root}\n`),
    "runc's words first",
  );
});

// A damaged line stops the whole delete (issue 18): a journal with one line ctc did not write says
// nothing true, so nothing in it is acted on, not even the lines that read (native/journal-check.c).
test('delete --force after a crash: a torn last journal line is the unfinished entry and is skipped; a damaged line is named, and nothing is undone', () => {
  const journal = (id: string) => join(root, id, 'journal');
  const dir = bundle('lc8', ['/bin/sleep', '30']);
  assert.is(createDetached('lc8', dir).status, 0);
  writeFileSync(journal('lc8'), readFileSync(journal('lc8'), 'utf8') + '{"undo":"cgroup.remove","step":9,"pa'); // a crash mid-write
  const torn = R('delete', '--force', 'lc8');
  assert.is(torn.status, 0, torn.stderr);
  assert.equal(hostResidue([root]), before, 'everything else is undone');

  const dir9 = bundle('lc9', ['/bin/sleep', '30']);
  assert.is(createDetached('lc9', dir9).status, 0);
  const pid = state('lc9').pid;
  const lines = readFileSync(journal('lc9'), 'utf8').split('\n');
  writeFileSync(journal('lc9'), [lines[0], 'garbage', ...lines.slice(1)].join('\n'));
  const damaged = R('delete', '--force', 'lc9');
  assert.is(damaged.status, 1);
  assert.match(
    damaged.stderr,
    /error CT_JOURNAL_CORRUPT: the journal of lc9 is not what its plan allows, so nothing was undone:\n {2}line 2: not a journal entry: garbage/,
  );
  assert.ok(procStat(pid) && procStat(pid)!.state !== 'Z', 'the init is not killed');
  assert.ok(existsSync(join(root, 'lc9', 'state.json')), 'the state dir is kept');
  writeFileSync(journal('lc9'), lines.join('\n'));
  assert.is(R('delete', '--force', 'lc9').status, 0, 'without the line, it deletes');
  assert.equal(hostResidue([root]), before);
});

test.run();
