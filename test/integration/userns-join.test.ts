// A user namespace joined by path (issue 19), as a pod with a user namespace
// puts its app containers into the sandbox's: a "sandbox" container whose root
// is host uid 100000 runs detached; app containers join its user namespace
// (and its ipc, uts and pid ones) by /proc/<sandbox pid>/ns/*, through the
// native launcher and the TypeScript CLI. Checked from the host: the app's
// init is in the sandbox's user namespace (by inode) with the same maps, runs
// as host uid 100000, and the namespaces the clone made for it (mount,
// network) belong to that user namespace; an exec'd process is in it too.
// The host's own user namespace may be named (nothing to join); a path that
// is not a user namespace fails at its step and leaves nothing.

import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxBundle } from '../busybox.ts';
import { ctc, hostResidue, root, runDetached as runDetachedIn, tempDir, WAYS, type Ran } from '../helpers.ts';

const tmp = tempDir();
// the container's root is host uid 100000: it must pass through to the bundles
chmodSync(tmp.dir, 0o711);
const stateRoot = join(tmp.dir, 'state');
const launcher = join(root, 'dist', 'ctc');
const SANDBOX = `unj-sbx-${process.pid}`;
const MAPS = [{ containerID: 0, hostID: 100000, size: 65536 }];
let sandboxPid = 0;
let n = 0;

const nsOf = (pid: number, kind: string) => readlinkSync(`/proc/${pid}/ns/${kind}`);
const stateOf = (id: string) => JSON.parse(ctc(['--root', stateRoot, 'state', id]).stdout) as { pid: number };
const remove = (id: string) => ctc(['--root', stateRoot, 'delete', '--force', id]);
const hostUid = (pid: number) => /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1];

const runDetached = (dir: string, id: string, env: Record<string, string> = {}): Ran => runDetachedIn(stateRoot, tmp.dir, dir, id, env);

/** A bundle whose namespaces are `made` plus `joined` (kind → path); its process may also configure its network. */
function bundle(id: string, made: string[], joined: Record<string, string>, maps = true): string {
  const namespaces = [...made.map((type) => ({ type })), ...Object.entries(joined).map(([type, path]) => ({ type, path }))];
  const dir = busyboxBundle(join(tmp.dir, id), {
    id,
    args: ['/bin/sleep', '120'],
    linux: { namespaces, ...(maps ? { uidMappings: MAPS, gidMappings: MAPS } : {}) },
    // no hostname: setting one in a joined uts namespace would rename the sandbox's
    extra: Object.keys(joined).includes('uts') ? { hostname: undefined } : {},
  });
  const file = join(dir, 'config.json');
  const config = JSON.parse(readFileSync(file, 'utf8'));
  for (const set of Object.values(config.process.capabilities) as string[][]) set.push('CAP_NET_ADMIN');
  writeFileSync(file, JSON.stringify(config));
  return dir;
}

test.before(() => {
  const r = runDetached(bundle(SANDBOX, ['user', 'pid', 'ipc', 'uts', 'mount', 'network'], {}), SANDBOX);
  assert.is(r.status, 0, r.stderr);
  sandboxPid = stateOf(SANDBOX).pid;
  assert.is(hostUid(sandboxPid), '100000', "the sandbox's root is host uid 100000");
});

test.after(() => {
  remove(SANDBOX);
  tmp.remove();
});

const joins = (kinds: string[]) => Object.fromEntries(kinds.map((k) => [k, `/proc/${sandboxPid}/ns/${k}`]));

for (const [way, env] of WAYS) {
  test(`through ${way}: an app container joins the sandbox's user, pid, ipc and uts namespaces; what its clone made belongs to that user namespace`, () => {
    const id = `unj-app-${process.pid}-${n++}`;
    try {
      // with the maps, as containerd passes the sandbox's; the second way without
      const r = runDetached(bundle(id, ['mount', 'network'], joins(['user', 'pid', 'ipc', 'uts']), way.includes('launcher')), id, env);
      assert.is(r.status, 0, r.stderr);
      const app = stateOf(id).pid;
      for (const kind of ['user', 'pid', 'ipc', 'uts'])
        assert.is(nsOf(app, kind), nsOf(sandboxPid, kind), `the app's ${kind} namespace is the sandbox's`);
      for (const kind of ['mnt', 'net'])
        assert.not.equal(nsOf(app, kind), nsOf(sandboxPid, kind), `the app's ${kind} namespace is its own`);
      assert.is(
        readFileSync(`/proc/${app}/uid_map`, 'utf8'),
        readFileSync(`/proc/${sandboxPid}/uid_map`, 'utf8'),
        "the maps are the joined namespace's",
      );
      assert.is(hostUid(app), '100000', "the init runs as the joined namespace's root, host uid 100000");
      // a network namespace owned by the joined user namespace: its root may configure it (CAP_NET_ADMIN counts only in the owner)
      const ex = (args: string[]) =>
        spawnSync(launcher, ['--root', stateRoot, 'exec', id, ...args], {
          encoding: 'utf8',
          env: { ...process.env, ...env, CTC_NODE: process.execPath },
        });
      const up = ex(['/bin/ip', 'link', 'set', 'lo', 'mtu', '1400']);
      assert.is(up.status, 0, up.stderr);
      const ids = ex(['/bin/sh', '-c', 'id -u; readlink /proc/self/ns/user']);
      assert.is(ids.stdout, `0\n${nsOf(sandboxPid, 'user')}\n`, ids.stderr);
    } finally {
      remove(id);
    }
  });
}

test("naming the host's own user namespace joins nothing: the container runs without one", () => {
  const id = `unj-host-${process.pid}-${n++}`;
  try {
    const r = runDetached(bundle(id, ['mount', 'pid', 'ipc', 'uts', 'network'], { user: `/proc/${process.pid}/ns/user` }, false), id);
    assert.is(r.status, 0, r.stderr);
    const app = stateOf(id).pid;
    assert.is(nsOf(app, 'user'), nsOf(process.pid, 'user'));
    assert.is(hostUid(app), '0');
  } finally {
    remove(id);
  }
});

for (const [way, env] of WAYS) {
  test(`through ${way}: a file that is not a user namespace is CT_STEP_FAILED EINVAL at its ns.join step, and nothing is left`, () => {
    const id = `unj-bad-${process.pid}-${n++}`;
    const file = join(tmp.dir, 'not-a-namespace');
    writeFileSync(file, '');
    const before = hostResidue([stateRoot]);
    const r = runDetached(bundle(id, ['mount', 'pid', 'uts', 'network'], { user: file }, false), id, env);
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, /CT_STEP_FAILED/, r.stderr);
    assert.match(r.stderr, /ns\.join/);
    assert.match(r.stderr, /EINVAL/);
    assert.equal(hostResidue([stateRoot]), before);
    remove(id);
  });
}

test.run();
