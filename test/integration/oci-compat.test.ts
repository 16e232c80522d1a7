// OCI configs as runc reads them (issue 19): podman's default `run` config
// (its seccomp profile names three syscalls no architecture has), a config of
// a newer 1.x runtime-spec, kernel memory limits, and an mqueue mount without
// an ipc namespace, each run by `ctc run --bundle` on a busybox root and
// checked from inside and from the host. Needs root.

import { mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxBundle, busyboxRootfs } from '../busybox.ts';
import { ctc, hostResidue, root, tempDir } from '../helpers.ts';

const tmp = tempDir('ctc-oci-compat-');
const state = join(tmp.dir, 'state');
const ids = ['podman', 'v13', 'kmem', 'mq', 'log'].map((n) => `oci-${n}-${process.pid}`);
test.after(() => {
  for (const id of ids) ctc(['--root', state, 'delete', '--force', id]);
  tmp.remove();
});

/** What this file's containers left (cgroups, state dirs, inits in their cgroups): other tests may run meanwhile. */
function left(): string[] {
  const inCgroup = (pid: string) => {
    try {
      return readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    } catch {
      return '';
    }
  };
  return hostResidue([state]).filter((l) =>
    ids.some((id) => l.includes(id) || (l.startsWith('process ') && inCgroup(l.split(' ')[1]).includes(id))),
  );
}

const run = (dir: string, id: string) => ctc(['--root', state, 'run', '--bundle', dir, id]);
const warnings = (stderr: string) => stderr.split('\n').filter((l) => / warning /.test(l));

/** podman's config on a busybox root: its storage paths, which do not exist here, become files this test makes. */
function podmanBundle(id: string, args: string[]): string {
  const dir = join(tmp.dir, id);
  const rootfs = busyboxRootfs(dir);
  const config = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'podman', 'run.config.json'), 'utf8'));
  config.root.path = rootfs;
  config.process.args = args;
  config.linux.cgroupsPath = `/ctc/${id}`;
  const userdata = join(dir, 'userdata');
  mkdirSync(join(userdata, 'shm'), { recursive: true });
  writeFileSync(join(userdata, '.containerenv'), 'engine="podman-4.3.1"\n');
  writeFileSync(join(userdata, 'hostname'), `${config.hostname}\n`);
  writeFileSync(join(userdata, 'hosts'), '127.0.0.1 localhost\n');
  for (const m of config.mounts) {
    if (m.type === 'bind') m.source = join(userdata, m.source.split('/userdata/')[1]);
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}

test("podman's default run config runs; its three unknown syscall names are skipped with a warning each", () => {
  const id = ids[0];
  const dir = podmanBundle(id, ['sh', '-c', 'grep Seccomp: /proc/self/status; cat /etc/hostname; cat /run/.containerenv; id -u']);
  const r = run(dir, id);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['Seccomp:\t2', '6c29ede2044b', 'engine="podman-4.3.1"', '0']);
  const w = warnings(r.stderr);
  assert.is(w.length, 3, r.stderr);
  for (const [i, name] of [
    [0, 'swapcontext'],
    [1, 'syscall'],
    [2, 'timerfd'],
  ] as const) {
    assert.match(
      w[i],
      new RegExp(
        `^ctc: config\\.json:\\d+:\\d+: warning CT_SYSCALL_UNKNOWN: linux\\.seccomp\\.syscalls\\[\\d\\]\\.names\\[\\d+\\]: '${name}' is not a syscall on any architecture; skipped`,
      ),
    );
  }
  assert.equal(left(), []);
});

test('ociVersion 1.3.0 (a runtime-spec newer than ctc knows) runs, with a warning', () => {
  const id = ids[1];
  const dir = busyboxBundle(join(tmp.dir, id), { id, args: ['/bin/hostname'], extra: { ociVersion: '1.3.0' } });
  const r = run(dir, id);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'bb\n');
  assert.equal(
    warnings(r.stderr).map((l) => l.replace(/:\d+:\d+:/, ':L:C:')),
    ['ctc: config.json:L:C: warning CT_OCI_VERSION: ociVersion "1.3.0" is newer than 1.2.x, the runtime-spec ctc knows; read as 1.2'],
  );
  assert.equal(left(), []);
});

// conmon gives create the container's own stdout and stderr, and --log: as runc's, the warnings go to the log only
test('with --log (json) the warnings are log lines of level warning, and stderr holds none', () => {
  const id = ids[4];
  const dir = busyboxBundle(join(tmp.dir, id), { id, args: ['/bin/true'], extra: { ociVersion: '1.3.0' } });
  const logFile = join(tmp.dir, 'warn.log');
  const r = ctc(['--root', state, '--log', logFile, '--log-format', 'json', 'run', '--bundle', dir, id]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  const lines = readFileSync(logFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(
    lines.map((l) => [l.level, /warning CT_OCI_VERSION: ociVersion "1.3.0"/.test(l.msg)]),
    [['warning', true]],
  );
  assert.equal(left(), []);
});

test('kernel memory limits run with one warning, and are not set', () => {
  const id = ids[2];
  const dir = busyboxBundle(join(tmp.dir, id), {
    id,
    args: ['/bin/true'],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }], memory: { limit: 67108864, kernel: 33554432, kernelTCP: 16777216 } },
    },
  });
  const r = run(dir, id);
  assert.is(r.status, 0, r.stderr);
  const w = warnings(r.stderr);
  assert.is(w.length, 1, r.stderr);
  assert.match(w[0], /warning CT_OCI_DEPRECATED: linux\.resources\.memory\.kernel, linux\.resources\.memory\.kernelTCP: /);
  assert.equal(left(), []);
});

test("no ipc namespace and an mqueue mount: the container shares the host's ipc namespace and mounts its mqueue", () => {
  const id = ids[3];
  const namespaces = ['pid', 'uts', 'mount', 'network'].map((type) => ({ type }));
  const dir = busyboxBundle(join(tmp.dir, id), {
    id,
    args: ['/bin/sh', '-c', 'readlink /proc/self/ns/ipc; grep " /dev/mqueue " /proc/self/mounts'],
    linux: { namespaces },
  });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.ok(
    config.mounts.some((m: { type: string }) => m.type === 'mqueue'),
    'the bundle mounts mqueue',
  );
  const r = run(dir, id);
  assert.is(r.status, 0, r.stderr);
  const [ipc, mount] = r.stdout.trim().split('\n');
  assert.is(ipc, readlinkSync('/proc/self/ns/ipc'), "the host's ipc namespace");
  assert.match(mount, /^mqueue \/dev\/mqueue mqueue /);
  assert.equal(left(), []);
});

test.run();
