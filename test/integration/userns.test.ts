// User namespaces as root: a container whose root is host uid 100000. Checked
// from inside (its maps, its ids) and from the host (who owns what it makes;
// what it cannot write), and a failure at each step of the user namespace's
// part leaves nothing behind.

import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxImage } from '../busybox-image.ts';
import { ctc, hostResidue, tempDir } from '../helpers.ts';
import { writeSource } from '../sources.ts';

const tmp = tempDir();
// root inside is host uid 100000: it must be able to pass through to the state dir and the bind sources
chmodSync(tmp.dir, 0o711);
const root = join(tmp.dir, 'state');
const before = hostResidue([root]);
test.after(() => {
  for (const id of ['uns', 'uns-fail']) ctc(['--root', root, 'delete', '--force', id]);
  tmp.remove();
});

// the host directories the container gets: one its root owns (100000), one the host's root owns
const mine = join(tmp.dir, 'mine');
const hosts = join(tmp.dir, 'hosts');
mkdirSync(mine, { mode: 0o755 });
chownSync(mine, 100000, 100000);
mkdirSync(hosts, { mode: 0o755 });
writeFileSync(join(hosts, 'file'), 'host\n', { mode: 0o666 & ~0o022 });

// a volume that must keep host ownership: bound with 'idmap'
const shared = join(tmp.dir, 'shared');
mkdirSync(shared, { mode: 0o755 });
writeFileSync(join(shared, 'owned-by-root'), 'x');

function plan(args: string[]): string {
  const file = writeSource(
    tmp.dir,
    'uns.ct.ts',
    `import { container, defaultMounts, hostRootfs } from 'ctc';
export default container({
  rootfs: hostRootfs(),
  namespaces: ['user', 'mount', 'uts', 'ipc', 'pid', 'network', 'cgroup'],
  uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
  gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
  mounts: [
    ...defaultMounts,
    { destination: '/mine', type: 'bind', source: ${JSON.stringify(mine)} },
    { destination: '/hosts', type: 'bind', source: ${JSON.stringify(hosts)} },
    { destination: '/shared', type: 'bind', source: ${JSON.stringify(shared)}, options: ['idmap'] },
  ],
  process: { args: ${JSON.stringify(args)}, env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] },
});
`,
  );
  const out = join(tmp.dir, 'uns.plan');
  const r = ctc(['build', file, '-o', out]);
  assert.is(r.status, 0, r.stderr);
  return out;
}

test('root inside is uid 100000 outside: its maps, the owner of what it makes, and no write to what the host owns', () => {
  const script = [
    'cat /proc/self/uid_map /proc/self/gid_map',
    'id -u; id -g',
    'echo made > /mine/made',
    'echo x > /hosts/file && echo wrote-host-file',
    'touch /hosts/new && echo made-host-file',
    'true',
  ].join('; ');
  const r = ctc(['--root', root, 'run', '--id', 'uns', plan(['/bin/sh', '-c', script])]);
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).join(' '));
  assert.equal(lines.slice(0, 4), ['0 100000 65536', '0 100000 65536', '0', '0']);
  const made = statSync(join(mine, 'made'));
  assert.equal([made.uid, made.gid], [100000, 100000], 'what root inside makes belongs to 100000 on the host');
  assert.not.ok(r.stdout.includes('wrote-host-file'), 'a root-owned host file is not writable through the bind');
  assert.not.ok(r.stdout.includes('made-host-file'), 'nor is a root-owned host directory');
  assert.is(readFileSync(join(hosts, 'file'), 'utf8'), 'host\n');
  assert.not.ok(existsSync(join(hosts, 'new')));
  assert.match(r.stderr, /Permission denied/);
  assert.equal(hostResidue([root]), before);
});

test("an 'idmap' bind keeps host ownership: root's files are root's inside, and what root inside makes is the host root's", () => {
  const r = ctc([
    '--root',
    root,
    'run',
    '--id',
    'uns',
    plan(['/bin/sh', '-c', 'stat -c "%u:%g" /shared/owned-by-root; echo made > /shared/made && stat -c "%u:%g" /shared/made']),
  ]);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['0:0', '0:0']);
  const made = statSync(join(shared, 'made'));
  assert.equal([made.uid, made.gid], [0, 0], 'not 100000: the idmapped mount writes the host ids the mapping leads back to');
  assert.equal(hostResidue([root]), before);
});

test('a state root the mapped root cannot pass through is refused with a hint, and nothing is left', () => {
  const closed = join(tmp.dir, 'closed');
  mkdirSync(closed, { mode: 0o700 });
  const r = ctc(['--root', join(closed, 'state'), 'run', '--id', 'uns', plan(['/bin/true'])]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /CT_STEP_FAILED[\s\S]*rootfs\.tmpfs[\s\S]*EACCES/);
  assert.match(r.stderr, /must let others through \(o\+x\)/);
  assert.equal(hostResidue([root, join(closed, 'state')]), before);
});

test("an image root under the mapping, writable and read-only: the cache stays 0700, root's alone", () => {
  const dir = join(tmp.dir, 'image');
  mkdirSync(dir);
  busyboxImage(join(dir, 'busybox.tar'));
  for (const readonly of [false, true]) {
    writeSource(
      dir,
      'app.ct.ts',
      `import { container, defaultMounts, imageRootfs } from 'ctc';
export default container({
  rootfs: imageRootfs('busybox.tar', { readonly: ${readonly} }),
  namespaces: ['user', 'mount', 'uts', 'ipc', 'pid', 'network', 'cgroup'],
  uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
  gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
  mounts: defaultMounts.filter((m) => !m.destination.startsWith('/sys')),
  process: { args: ['/bin/sh', '-c', 'id -u; touch /made && echo wrote || echo read-only'], env: ['PATH=/bin'] },
});
`,
    );
    const built = ctc(['build', join(dir, 'app.ct.ts')]);
    assert.is(built.status, 0, built.stderr);
    const r = ctc(['--root', root, 'run', '--id', 'uns', join(dir, 'app.plan')]);
    assert.is(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n'), ['0', readonly ? 'read-only' : 'wrote'], `readonly: ${readonly}`);
    assert.is(statSync(join(root, '@images')).mode & 0o777, 0o700);
  }
  assert.is(ctc(['--root', root, 'gc', '--images']).status, 0, 'the cached image goes with gc --images');
  rmSync(join(root, '@images'), { recursive: true, force: true }); // the emptied cache dir
  assert.equal(hostResidue([root]), before);
});

test('a failure at each step from the clone to the first container step, and at the idmapped bind, leaves nothing', () => {
  const p = plan(['/bin/true']);
  const steps = [...readFileSync(p, 'utf8').matchAll(/^(\d+) (host|init) (\S+)/gm)].map((m) => ({ n: Number(m[1]), kind: m[3] }));
  const from = steps.find((s) => s.kind === 'ns.clone')!.n;
  const to = steps.find((s) => s.kind === 'user.root')!.n + 1;
  for (const { n, kind } of steps.filter((s) => (s.n >= from && s.n <= to) || s.kind === 'mount.idmap')) {
    const r = ctc(['--root', root, 'run', '--id', 'uns-fail', p], { env: { CTC_FAIL_STEP: String(n) } });
    assert.match(r.stderr, new RegExp(`CT_STEP_FAILED[^]*step ${n} ${kind.replace('.', '\\.')}`), r.stderr);
    assert.equal(hostResidue([root]), before, `after a failure at step ${n} ${kind}`);
  }
});

test.run();
