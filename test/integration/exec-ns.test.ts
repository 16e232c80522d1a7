// `ctc exec` enters the namespaces the container's init is in, created or
// joined by path, and its cgroup: checked from the host against the init's
// /proc entries, through the native launcher (dist/ctc, no Node behind it)
// and through the TypeScript CLI (CTC_NATIVE=0). Issue 19: an exec'd
// `brctl addbr` in a container that joined a network namespace by path made
// the bridge on the host. The network namespace is this test's own (ip
// netns add); the bridge an exec makes goes into it, and is removed from the
// host too should the exec have made it there. The init is then moved to a
// child cgroup (as a container may move itself): exec follows it. Last, a
// second container joins the first's pid, ipc, uts and network namespaces by
// path (as a pod's app containers join the sandbox's): exec lands in them.

import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultCapabilities } from '../../stdlib/capabilities.ts';
import { busyboxBundle } from '../busybox.ts';
import { cli, ctc, root, tempDir, type Ran } from '../helpers.ts';

const tmp = tempDir();
const stateRoot = join(tmp.dir, 'state');
const NS = `ctc-test-execns-${process.pid}`;
const NS_PATH = `/run/netns/${NS}`;
const ID = `execns-${process.pid}`;
/** a second container joining the first's pid, ipc, uts and network namespaces by path, as a pod's app joins its sandbox's */
const APP = `execns-app-${process.pid}`;
const launcher = join(root, 'dist', 'ctc');
const KINDS = ['user', 'mnt', 'pid', 'net', 'ipc', 'uts', 'cgroup', 'time'];
/** the launcher with no Node behind it: an exec it handed over would fail CT_NODE_MISSING */
const WAYS: [string, Record<string, string>][] = [
  ['the native launcher', { CTC_NODE: '/nonexistent/node' }],
  ['the TypeScript CLI', { CTC_NATIVE: '0', CTC_NODE: process.execPath }],
];

const exec = (env: Record<string, string>, args: string[], id = ID): Ran => {
  const r = spawnSync(launcher, ['--root', stateRoot, 'exec', id, ...args], {
    encoding: 'utf8',
    cwd: root,
    env: { ...process.env, ...env },
    input: '',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
const hostHasLink = (name: string) => spawnSync('ip', ['link', 'show', name], { stdio: 'ignore' }).status === 0;
const nsHasLink = (name: string) => spawnSync('ip', ['-n', NS, 'link', 'show', name], { stdio: 'ignore' }).status === 0;

let initPid = 0;

/** run -d: the container keeps the stdio it is given, so a file, not a pipe spawnSync would wait on */
function runDetached(dir: string, id: string): void {
  const log = join(tmp.dir, `${id}.log`);
  const fd = openSync(log, 'w');
  try {
    const r = spawnSync(process.execPath, [cli, '--root', stateRoot, 'run', '-d', '--bundle', dir, id], {
      cwd: root,
      stdio: ['ignore', fd, fd],
      timeout: 60_000,
    });
    assert.is(r.status, 0, readFileSync(log, 'utf8'));
  } finally {
    closeSync(fd);
  }
}

/** The host's cgroup mounts: each /proc/<pid>/cgroup line's controllers ('' for v2) and where that hierarchy is mounted. */
const cgroupMounts = () =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' - '))
    .filter(([, r]) => /^cgroup2? /.test(r ?? ''))
    .map(([l, r]) => {
      const [type, , opts] = r.split(' ');
      const controllers =
        type === 'cgroup2'
          ? ''
          : opts
              .split(',')
              .filter(
                (o) =>
                  !/^(rw|ro|relatime|noexec|nosuid|nodev|clone_children|xattr|nsdelegate|memory_recursiveprot|noprefix)$/.test(o) &&
                  !o.startsWith('release_agent='),
              )
              .sort()
              .join(',');
      return { controllers, mount: l.split(' ')[4] };
    });

/** Moves the init into a child `sub` of each of its cgroups (the container may do this itself); returns the way back. */
function moveInit(sub: string): () => void {
  const dirs: [string, string][] = [];
  for (const line of readFileSync(`/proc/${initPid}/cgroup`, 'utf8').trim().split('\n')) {
    const [, ctl, path] = line.split(':');
    const m = cgroupMounts().find((x) => x.controllers === ctl.split(',').filter(Boolean).sort().join(','));
    if (!m) continue;
    const dir = join(m.mount, path);
    mkdirSync(join(dir, sub));
    if (existsSync(join(dir, 'cpuset.cpus')))
      for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(dir, sub, f), readFileSync(join(dir, f)));
    writeFileSync(join(dir, sub, 'cgroup.procs'), String(initPid));
    dirs.push([dir, join(dir, sub)]);
  }
  return () => {
    for (const [dir, child] of dirs) {
      writeFileSync(join(dir, 'cgroup.procs'), String(initPid));
      rmdirSync(child);
    }
  };
}

test.before(() => {
  execFileSync('ip', ['netns', 'add', NS]);
  const caps = [...defaultCapabilities, 'CAP_NET_ADMIN'];
  const dir = busyboxBundle(join(tmp.dir, 'bundle'), {
    id: ID,
    args: ['/bin/sleep', '120'],
    linux: {
      namespaces: [...['pid', 'ipc', 'uts', 'mount'].map((type) => ({ type })), { type: 'network', path: NS_PATH }],
      // a filter to compare: the exec'd process has it as the init does
      seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['swapon', 'swapoff'], action: 'SCMP_ACT_ERRNO' }] },
    },
  });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  config.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  runDetached(dir, ID);
  initPid = JSON.parse(ctc(['--root', stateRoot, 'state', ID]).stdout).pid;
  assert.is(readlinkSync(`/proc/${initPid}/ns/net`), `net:[${statSync(NS_PATH).ino}]`, 'the init joined the namespace');
});

test.after(() => {
  ctc(['--root', stateRoot, 'delete', '--force', APP]);
  ctc(['--root', stateRoot, 'delete', '--force', ID]);
  spawnSync('ip', ['netns', 'del', NS]);
  tmp.remove();
});

for (const [k, [way, env]] of WAYS.entries()) {
  test(`exec through ${way}: every namespace and the cgroup are the init's, the joined network namespace too`, () => {
    const script = `${KINDS.map((k) => `readlink /proc/self/ns/${k}`).join('; ')}; cat /proc/self/cgroup`;
    const r = exec(env, ['/bin/sh', '-c', script]);
    assert.is(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(
      lines.slice(0, KINDS.length),
      KINDS.map((k) => readlinkSync(`/proc/${initPid}/ns/${k}`)),
    );
    assert.is(lines[KINDS.indexOf('net')], `net:[${statSync(NS_PATH).ino}]`);
    assert.not.equal(lines[KINDS.indexOf('net')], readlinkSync('/proc/self/ns/net'), 'not the host network');
    assert.equal(lines.slice(KINDS.length).sort(), readFileSync(`/proc/${initPid}/cgroup`, 'utf8').trim().split('\n').sort());
  });

  test(`exec through ${way}: the init's capabilities, no_new_privs and seccomp mode, from the plan the init applied`, () => {
    const r = exec(env, ['/bin/cat', '/proc/self/status']);
    assert.is(r.status, 0, r.stderr);
    const confinement = (status: string) =>
      status.split('\n').filter((l) => /^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp|Seccomp_filters|Uid|Gid):/.test(l));
    const init = confinement(readFileSync(`/proc/${initPid}/status`, 'utf8'));
    assert.ok(init.includes('Seccomp:\t2') && init.includes('NoNewPrivs:\t1'), init.join('\n'));
    assert.equal(confinement(r.stdout), init);
  });

  test(`exec through ${way}: the init moved to a child cgroup, the exec'd process goes where it is now`, () => {
    const back = moveInit(`moved${k}`);
    try {
      const r = exec(env, ['/bin/cat', '/proc/self/cgroup']);
      assert.is(r.status, 0, r.stderr);
      const init = readFileSync(`/proc/${initPid}/cgroup`, 'utf8');
      assert.ok(init.includes(`/moved${k}\n`), init);
      assert.equal(r.stdout.trim().split('\n').sort(), init.trim().split('\n').sort());
    } finally {
      back();
    }
  });

  test(`exec through ${way}: a bridge the exec'd process makes is in the joined namespace, not on the host`, () => {
    const bridge = `ctcxb${process.pid % 100000}-${k}`;
    try {
      const r = exec(env, ['/bin/brctl', 'addbr', bridge]);
      assert.is(r.status, 0, r.stderr);
      assert.not.ok(hostHasLink(bridge), `the exec made ${bridge} on the host`);
      assert.ok(nsHasLink(bridge), `${bridge} is in the container's network namespace`);
    } finally {
      if (hostHasLink(bridge)) spawnSync('ip', ['link', 'del', bridge]);
      spawnSync('ip', ['-n', NS, 'link', 'del', bridge]);
    }
  });
}

test("exec into a container that joined another's pid, ipc, uts and network namespaces by path: it is in them, through both", () => {
  const joined = { pid: 'pid', ipc: 'ipc', uts: 'uts', network: 'net' };
  const namespaces = [{ type: 'mount' }, ...Object.entries(joined).map(([type, file]) => ({ type, path: `/proc/${initPid}/ns/${file}` }))];
  // no hostname: setting one in a joined uts namespace would rename the other container's
  runDetached(
    busyboxBundle(join(tmp.dir, 'app'), { id: APP, args: ['/bin/sleep', '120'], linux: { namespaces }, extra: { hostname: undefined } }),
    APP,
  );
  const appPid = JSON.parse(ctc(['--root', stateRoot, 'state', APP]).stdout).pid;
  for (const [, env] of WAYS) {
    const r = exec(env, ['/bin/sh', '-c', KINDS.map((k) => `readlink /proc/self/ns/${k}`).join('; ')], APP);
    assert.is(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(
      lines,
      KINDS.map((k) => readlinkSync(`/proc/${appPid}/ns/${k}`)),
      "the app's init's",
    );
    for (const file of Object.values(joined))
      assert.is(lines[KINDS.indexOf(file)], readlinkSync(`/proc/${initPid}/ns/${file}`), `the other container's ${file}`);
    assert.not.equal(lines[KINDS.indexOf('mnt')], readlinkSync(`/proc/${initPid}/ns/mnt`), 'its own mount namespace');
  }
});

test.run();
