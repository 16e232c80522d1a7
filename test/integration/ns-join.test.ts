// Namespaces joined by path, as a Kubernetes pod's app containers join the
// pod sandbox's (issue 19): a "sandbox" container with its own ipc, uts,
// network and pid namespaces runs detached; app containers whose OCI configs
// join them by /proc/<sandbox pid>/ns/* run, and their inits' namespaces are
// compared by inode from the host, through the native launcher (dist/ctc)
// and the TypeScript CLI (CTC_NATIVE=0). The pid namespace is joined by
// ctc-init's monitor before the clone, so the init is born in it. A cgroup
// namespace (the sandbox's) and a time namespace (unshare's, this test's own)
// are joined too, and seen from inside. A path that
// is not a namespace of that kind (a regular file), or whose process is gone,
// fails at its ns.join step with the errno and a hint, and leaves nothing.
// Then containerd's own configs (test/fixtures/cri) run with their
// /proc/4242/ns/* paths pointed at the live sandbox.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxBundle, busyboxRootfs } from '../busybox.ts';
import { ctc, root, runDetached as runDetachedIn, tempDir, until, WAYS, type Ran } from '../helpers.ts';

const tmp = tempDir();
const stateRoot = join(tmp.dir, 'state');
const launcher = join(root, 'dist', 'ctc');
const SANDBOX = `nsj-sbx-${process.pid}`;

let sandboxPid = 0;
let n = 0;

const nsOf = (pid: number, kind: string) => readlinkSync(`/proc/${pid}/ns/${kind}`);
const stateOf = (id: string) => JSON.parse(ctc(['--root', stateRoot, 'state', id]).stdout) as { pid: number; status: string };

const runDetached = (dir: string, id: string, env: Record<string, string> = {}): Ran => runDetachedIn(stateRoot, tmp.dir, dir, id, env);

/** An app container's bundle: sleeps, joins the sandbox's namespaces named in `joins`, makes the rest. */
function appBundle(id: string, joins: string[], paths: Record<string, string> = {}): string {
  const file = (type: string) => (type === 'network' ? 'net' : type);
  const extra = ['cgroup', 'time'].filter((type) => joins.includes(type));
  const namespaces = ['pid', 'ipc', 'uts', 'mount', 'network', ...extra].map((type) =>
    joins.includes(type) ? { type, path: paths[type] ?? `/proc/${sandboxPid}/ns/${file(type)}` } : { type },
  );
  // no hostname: setting one in a joined uts namespace would rename the sandbox (as runc does)
  return busyboxBundle(join(tmp.dir, id), { id, args: ['/bin/sleep', '120'], linux: { namespaces }, extra: { hostname: undefined } });
}

const remove = (id: string) => ctc(['--root', stateRoot, 'delete', '--force', id]);

test.before(() => {
  const namespaces = ['pid', 'ipc', 'uts', 'mount', 'network', 'cgroup'].map((type) => ({ type }));
  const dir = busyboxBundle(join(tmp.dir, SANDBOX), { id: SANDBOX, args: ['/bin/sleep', '300'], linux: { namespaces } });
  const r = runDetached(dir, SANDBOX);
  assert.is(r.status, 0, r.stderr);
  sandboxPid = stateOf(SANDBOX).pid;
  for (const kind of ['ipc', 'uts', 'net', 'pid', 'cgroup'])
    assert.not.equal(nsOf(sandboxPid, kind), nsOf(process.pid, kind), `the sandbox has its own ${kind} namespace`);
});

test.after(() => {
  remove(SANDBOX);
  tmp.remove();
});

for (const [way, env] of WAYS) {
  test(`through ${way}: an app container joins the sandbox's ipc, uts and network namespaces; its mount and pid namespaces are its own`, () => {
    const id = `nsj-app-${process.pid}-${n++}`;
    try {
      const r = runDetached(appBundle(id, ['ipc', 'uts', 'network']), id, env);
      assert.is(r.status, 0, r.stderr);
      const app = stateOf(id).pid;
      for (const kind of ['ipc', 'uts', 'net'])
        assert.is(nsOf(app, kind), nsOf(sandboxPid, kind), `the app's ${kind} namespace is the sandbox's`);
      for (const kind of ['mnt', 'pid'])
        assert.not.equal(nsOf(app, kind), nsOf(sandboxPid, kind), `the app's ${kind} namespace is its own`);
    } finally {
      remove(id);
    }
  });

  test(`through ${way}: an app container joining the sandbox's pid namespace too is born in it (not its pid 1)`, () => {
    const id = `nsj-pid-${process.pid}-${n++}`;
    try {
      const r = runDetached(appBundle(id, ['pid', 'ipc', 'uts', 'network']), id, env);
      assert.is(r.status, 0, r.stderr);
      const app = stateOf(id).pid;
      for (const kind of ['pid', 'ipc', 'uts', 'net'])
        assert.is(nsOf(app, kind), nsOf(sandboxPid, kind), `the app's ${kind} namespace is the sandbox's`);
      const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${app}/status`, 'utf8'))![1].split(/\s+/);
      assert.is(nspid.length, 2, "one pid namespace below the host, the sandbox's");
      assert.not.equal(nspid[1], '1', "the sandbox's init is its pid 1, not the app's");
      const ps = spawnSync(launcher, ['--root', stateRoot, 'exec', id, '/bin/cat', '/proc/1/cmdline'], {
        encoding: 'utf8',
        env: { ...process.env, ...env, CTC_NODE: process.execPath },
      });
      assert.is(ps.stdout.replaceAll('\0', ' ').trim(), '/bin/sleep 300', "pid 1 in the app's /proc is the sandbox's init");
    } finally {
      remove(id);
    }
  });
}

test("an app container joining the sandbox's cgroup namespace is in it: its cgroup root is the sandbox's cgroup", () => {
  const id = `nsj-cg-${process.pid}-${n++}`;
  try {
    const r = runDetached(appBundle(id, ['cgroup']), id);
    assert.is(r.status, 0, r.stderr);
    const app = stateOf(id).pid;
    assert.is(nsOf(app, 'cgroup'), nsOf(sandboxPid, 'cgroup'));
    const ps = spawnSync(launcher, ['--root', stateRoot, 'exec', id, '/bin/cat', '/proc/self/cgroup'], {
      encoding: 'utf8',
      env: { ...process.env, CTC_NODE: process.execPath },
    });
    assert.match(
      ps.stdout,
      new RegExp(`^0::/\\.\\./${id}$`, 'm'),
      "seen from the sandbox's cgroup namespace, the app's cgroup is a sibling of its root",
    );
  } finally {
    remove(id);
  }
});

test("an app container joining another process's time namespace sees its clocks", async () => {
  // a time namespace of this test's own: unshare makes it for its child, with the boot clock 10^6 s ahead
  const holder = spawn('unshare', ['--time', '--boottime', '1000000', '--fork', '--kill-child', '/bin/sleep', '120'], { stdio: 'ignore' });
  const id = `nsj-time-${process.pid}-${n++}`;
  let inTime = 0;
  try {
    const children = `/proc/${holder.pid}/task/${holder.pid}/children`;
    await until(() => existsSync(children) && readFileSync(children, 'utf8').trim() !== '', 'unshare forks its child');
    inTime = Number(readFileSync(children, 'utf8').trim());
    const r = runDetached(appBundle(id, ['time'], { time: `/proc/${inTime}/ns/time` }), id);
    assert.is(r.status, 0, r.stderr);
    const app = stateOf(id).pid;
    assert.is(nsOf(app, 'time'), nsOf(inTime, 'time'));
    assert.not.equal(nsOf(app, 'time'), nsOf(process.pid, 'time'));
    const up = spawnSync(launcher, ['--root', stateRoot, 'exec', id, '/bin/cat', '/proc/uptime'], {
      encoding: 'utf8',
      env: { ...process.env, CTC_NODE: process.execPath },
    });
    assert.ok(Number(up.stdout.split(' ')[0]) > 1_000_000, `the boot clock is the namespace's: ${up.stdout}${up.stderr}`);
  } finally {
    remove(id);
    if (inTime) process.kill(inTime, 'SIGKILL'); // the namespace's only process; --kill-child would end it too
    holder.kill('SIGKILL');
    await new Promise((done) => (holder.exitCode === null && holder.signalCode === null ? holder.once('exit', done) : done(undefined)));
  }
});

test("create then start, as containerd does: the created init is already in the sandbox's pid namespace, waiting", () => {
  const id = `nsj-cs-${process.pid}-${n++}`;
  const dir = appBundle(id, ['pid', 'ipc', 'uts', 'network']);
  // the container keeps the stdio it is given: a file, not a pipe spawnSync would wait on
  const R = (...args: string[]) => {
    const fd = openSync(join(tmp.dir, `${id}.log`), 'w');
    try {
      const r = spawnSync(launcher, ['--root', stateRoot, ...args], {
        cwd: dir,
        env: { ...process.env, CTC_NODE: process.execPath },
        stdio: ['ignore', fd, fd],
        timeout: 60_000,
      });
      return { status: r.status, stderr: readFileSync(join(tmp.dir, `${id}.log`), 'utf8') };
    } finally {
      closeSync(fd);
    }
  };
  try {
    const created = R('create', '--bundle', dir, id);
    assert.is(created.status, 0, created.stderr);
    const st = stateOf(id);
    assert.is(st.status, 'created');
    assert.is(nsOf(st.pid, 'pid'), nsOf(sandboxPid, 'pid'));
    const started = R('start', id);
    assert.is(started.status, 0, started.stderr);
    assert.is(stateOf(id).status, 'running');
    assert.equal(
      readFileSync(`/proc/${st.pid}/cmdline`, 'utf8').split('\0'),
      ['/bin/sleep', '120', ''],
      'the container process runs, in the init',
    );
  } finally {
    remove(id);
  }
});

/** Runs an app whose join fails; checks the coded error and that nothing of it is left. */
function failsToJoin(kind: string, path: string, errno: string, hint: RegExp, env: Record<string, string>): void {
  const id = `nsj-bad-${process.pid}-${n++}`;
  const r = runDetached(appBundle(id, ['ipc', 'uts', 'network', kind], { [kind]: path }), id, env);
  try {
    assert.is.not(r.status, 0);
    assert.match(
      r.stderr,
      new RegExp(`CT_STEP_FAILED: step \\d+ ns\\.join \\(${path.replaceAll('/', '\\/').replaceAll('.', '\\.')}\\)`),
      r.stderr,
    );
    assert.match(r.stderr, new RegExp(errno), r.stderr);
    assert.match(r.stderr, hint, r.stderr);
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
    assert.not.ok(existsSync(join(stateRoot, id)), 'no state dir is left');
    assert.not.ok(existsSync(`/sys/fs/cgroup/pids/ctc/${id}`) || existsSync(`/sys/fs/cgroup/ctc/${id}`), 'no cgroup is left');
  } finally {
    remove(id);
  }
}

for (const [way, env] of WAYS) {
  test(`through ${way}: a regular file as the ipc or pid namespace to join is CT_STEP_FAILED EINVAL at its ns.join step, and nothing is left`, () => {
    const file = join(tmp.dir, 'not-a-namespace');
    writeFileSync(file, 'x');
    failsToJoin('ipc', file, 'EINVAL', /is not a namespace of the ipc kind/, env);
    failsToJoin('pid', file, 'EINVAL', /is not a namespace of the pid kind/, env);
  });

  test(`through ${way}: the namespace of a process that is gone is CT_STEP_FAILED ENOENT, with a hint`, () => {
    const gone = spawnSync('/bin/true').pid!;
    failsToJoin('uts', `/proc/${gone}/ns/uts`, 'ENOENT', /is gone: has the process whose namespace it names exited\?/, env);
    failsToJoin('pid', `/proc/${gone}/ns/pid`, 'ENOENT', /is gone/, env);
  });
}

/** containerd's config, its /proc/4242 paths pointed at the sandbox, its bind sources made here, on a busybox root. */
function criBundle(name: string, id: string): string {
  const dir = join(tmp.dir, id);
  mkdirSync(dir);
  busyboxRootfs(dir);
  const text = readFileSync(join(root, 'test', 'fixtures', 'cri', `${name}.config.json`), 'utf8').replaceAll(
    '/proc/4242/',
    `/proc/${sandboxPid}/`,
  );
  const config = JSON.parse(text);
  mkdirSync(join(dir, 'binds'));
  for (const m of config.mounts as { type: string; source: string; destination: string }[]) {
    if (m.type !== 'bind') continue;
    m.source = join(dir, 'binds', m.destination.replaceAll('/', '_'));
    if (m.destination === '/dev/shm') mkdirSync(m.source);
    else writeFileSync(m.source, '');
  }
  config.process.args = ['/bin/sleep', '120'];
  config.linux.cgroupsPath = `/ctc/${id}`;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

test("containerd's app container configs (test/fixtures/cri) run in the live sandbox's namespaces", () => {
  for (const [name, shared] of [
    ['container', ['ipc', 'uts', 'net']],
    ['container-shared-pid', ['ipc', 'uts', 'net', 'pid']],
  ] as const) {
    const id = `nsj-cri-${process.pid}-${n++}`;
    try {
      const r = runDetached(criBundle(name, id), id);
      assert.is(r.status, 0, r.stderr);
      const app = stateOf(id).pid;
      for (const kind of ['ipc', 'uts', 'net', 'pid']) {
        const same = nsOf(app, kind) === nsOf(sandboxPid, kind);
        assert.is(
          same,
          (shared as readonly string[]).includes(kind),
          `${name}: the ${kind} namespace is ${same ? '' : 'not '}the sandbox's`,
        );
      }
    } finally {
      remove(id);
    }
  }
});

test.run();
