// The container's filesystem, read back from inside: mount options as
// configured in /proc/self/mountinfo, masked and read-only paths, a
// read-only root, device nodes, the device allow-list, root propagation.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxRootfs } from '../busybox.ts';
import { ctc, hostResidue, tempDir } from '../helpers.ts';

const tmp = tempDir();
test.after(() => tmp.remove());
const before = hostResidue();

function run(name: string, def: string): { status: number | null; stdout: string; stderr: string } {
  const src = join(tmp.dir, `${name}.ct.ts`);
  writeFileSync(
    src,
    `import { container, defaultMounts, hostRootfs, dirRootfs, maskedPaths } from 'ctc';\nexport default container(${def});\n`,
  );
  const b = ctc(['build', src]);
  assert.is(b.status, 0, b.stderr);
  return ctc(['run', join(tmp.dir, `${name}.plan`)]);
}

const sh = (script: string) => `process: { args: ['/bin/sh', '-c', ${JSON.stringify(script)}] }`;

/** mountinfo of the container: mount point → [per-mount options, optional fields, fs type, super options]. */
function mountinfo(text: string): Map<string, { opts: string; tags: string; fstype: string; sopts: string }> {
  return new Map(
    text
      .trim()
      .split('\n')
      .filter((l) => l.includes(' - '))
      .map((l) => {
        const [left, right] = l.split(' - ');
        const f = left.split(' ');
        const [fstype, , sopts] = right.split(' ');
        return [f[4], { opts: f[5], tags: f.slice(6).join(' '), fstype, sopts }];
      }),
  );
}

test('mount options read back from mountinfo as configured, file and directory binds, per-mount propagation', () => {
  const hostDir = join(tmp.dir, 'shared-dir');
  mkdirSync(hostDir);
  writeFileSync(join(hostDir, 'hello'), 'from the host\n');
  const hostFile = join(tmp.dir, 'motd');
  writeFileSync(hostFile, 'a file bind\n');
  const r = run(
    'mounts',
    `{ rootfs: hostRootfs(), mounts: [...defaultMounts,
      { destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'noatime', 'size=1m', 'mode=700', 'uid=1000', 'gid=1000'] },
      { destination: '/srv/in', type: 'bind', source: ${JSON.stringify(hostDir)}, options: ['rbind', 'ro', 'nosuid', 'private'] },
      { destination: '/srv/shared', type: 'tmpfs', source: 'tmpfs', options: ['shared'] },
      { destination: '/etc/motd', type: 'bind', source: ${JSON.stringify(hostFile)}, options: ['bind', 'ro'] },
    ], ${sh('cat /proc/self/mountinfo; echo ---; cat /srv/in/hello /etc/motd; stat -c %a /data; touch /srv/in/x 2>&1; touch /etc/motd 2>&1; true')} }`,
  );
  assert.is(r.status, 0, r.stderr);
  const [info, rest] = r.stdout.split('---\n');
  const m = mountinfo(info);
  const data = m.get('/data')!;
  assert.is(data.fstype, 'tmpfs');
  assert.is(data.opts, 'rw,nosuid,nodev,noexec,noatime');
  for (const o of ['size=1024k', 'mode=700', 'uid=1000', 'gid=1000']) assert.ok(data.sopts.split(',').includes(o), `${o} in ${data.sopts}`);
  assert.match(m.get('/srv/in')!.opts, /^ro,nosuid/);
  assert.not.match(m.get('/srv/in')!.tags, /shared:/, 'a private mount has no peer group');
  assert.match(m.get('/srv/shared')!.tags, /shared:\d+/, 'a shared mount has a peer group');
  assert.match(m.get('/etc/motd')!.opts, /^ro,/);
  assert.match(rest, /from the host\na file bind\n700\n/);
  assert.match(rest, /touch: .*\/srv\/in\/x.*Read-only file system/);
  assert.match(rest, /touch: .*\/etc\/motd.*Read-only file system/);
});

test('masked paths are empty, read-only paths refuse writes with EROFS', () => {
  const r = run(
    'masked',
    `{ rootfs: hostRootfs(), mounts: defaultMounts, maskedPaths: [...maskedPaths.default, '/proc/timer_list'], ${sh(
      'wc -c < /proc/keys; wc -c < /proc/timer_list; ls -A /sys/firmware | wc -l; ls -A /proc/acpi | wc -l; { echo x > /proc/sys/kernel/domainname; } 2>&1; grep -c " /proc/sys ro," /proc/self/mountinfo; true',
    )} }`,
  );
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.slice(0, 4), ['0', '0', '0', '0']);
  assert.match(lines[4], /Read-only file system/);
  assert.is(lines[5], '1', '/proc/sys is a read-only mount');
});

test('a read-only root refuses writes; its own tmpfs mounts still take them', () => {
  const rootfs = busyboxRootfs(join(tmp.dir, 'ro'));
  const r = run(
    'readonly-root',
    `{ rootfs: dirRootfs(${JSON.stringify(rootfs)}, { readonly: true }), mounts: [...defaultMounts, { destination: '/tmp', type: 'tmpfs', source: 'tmpfs' }], ${sh(
      'touch /x 2>&1; touch /tmp/y && echo tmp-ok; awk \'$5 == "/" { print $6 }\' /proc/self/mountinfo',
    )} }`,
  );
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /touch: \/x: Read-only file system/);
  assert.match(r.stdout, /tmp-ok/);
  assert.match(r.stdout, /^ro,/m);
});

test('device nodes exist with their numbers and modes; a device outside the allow-list cannot be made or opened', () => {
  const r = run(
    'devices',
    `{ rootfs: hostRootfs(), mounts: defaultMounts, devices: [{ path: '/dev/port0', type: 'c', major: 1, minor: 4, mode: 0o600 }], ${sh(
      'for d in null zero full random urandom tty port0; do stat -c "%n %F %t:%T %a" /dev/$d; done; ls -l /dev/ptmx /dev/fd /dev/stdin | cut -c1; ' +
        'mknod /tmp/sda b 8 0 2>&1; mknod /tmp/mem c 1 1 2>&1; head -c1 /dev/mem 2>&1; true',
    )} }`,
  );
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.slice(0, 7), [
    '/dev/null character special file 1:3 666',
    '/dev/zero character special file 1:5 666',
    '/dev/full character special file 1:7 666',
    '/dev/random character special file 1:8 666',
    '/dev/urandom character special file 1:9 666',
    '/dev/tty character special file 5:0 666',
    '/dev/port0 character special file 1:4 600',
  ]);
  assert.equal(lines.slice(7, 10), ['l', 'l', 'l'], '/dev/ptmx, /dev/fd and /dev/stdin are links');
  assert.match(lines[10], /mknod: .*\/tmp\/sda.*Operation not permitted/);
  assert.match(lines[11], /mknod: .*\/tmp\/mem.*Operation not permitted/);
});

// The CRI's Bidirectional volume: an rshared bind of a shared host mount in an rshared root. Until the root
// stands alone the tree is the host's slave, so the bind stays a slave of the host's mount (master:N in
// mountinfo): what the host mounts there later reaches the container. (A private tree had cut it off.)
test('an rshared bind in an rshared root is a slave of the host mount it binds: later host mounts reach it', () => {
  const vol = join(tmp.dir, 'vol');
  mkdirSync(vol);
  for (const args of [
    ['--bind', vol, vol],
    ['--make-rshared', vol],
  ])
    assert.is(spawnSync('mount', args).status, 0);
  try {
    const group = /shared:(\d+)/.exec(
      readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .find((l) => l.split(' ')[4] === vol) ?? '',
    )?.[1];
    assert.ok(group, 'the host mount is shared');
    const bind = `{ destination: '/vol', type: 'bind', source: ${JSON.stringify(vol)}, options: ['rbind', 'rshared'] }`;
    const r = run(
      'shared-bind',
      `{ rootfs: hostRootfs(), mounts: [...defaultMounts, ${bind}], rootfsPropagation: 'rshared', ${sh('cat /proc/self/mountinfo')} }`,
    );
    assert.is(r.status, 0, r.stderr);
    assert.match(mountinfo(r.stdout).get('/vol')?.tags ?? '', new RegExp(`\\bmaster:${group}\\b`), r.stdout);
  } finally {
    spawnSync('umount', [vol]);
  }
});

test("hostRootfs({ readonly: true }): the root's own tmpfs refuses writes inside; a tmpfs mounted on it does not", () => {
  const script =
    'touch /newfile 2>&1; touch /root/x 2>&1; touch /dev/shm/ok && echo shm-ok; awk \'$5 == "/" { print $6 }\' /proc/self/mountinfo';
  const r = run('ro-host', `{ rootfs: hostRootfs({ readonly: true }), mounts: defaultMounts, ${sh(script)} }`);
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /\/newfile'?: Read-only file system/, r.stdout);
  assert.match(lines[1], /\/root\/x'?: Read-only file system/);
  assert.is(lines[2], 'shm-ok');
  assert.match(lines[3], /^ro,/, "/'s mount options");
  assert.equal(hostResidue(), before);
});

test('a shared root propagation is applied once the root stands alone', () => {
  const r = run(
    'shared-root',
    `{ rootfs: hostRootfs(), mounts: defaultMounts, rootfsPropagation: 'rshared', ${sh('awk \'$5 == "/"\' /proc/self/mountinfo')} }`,
  );
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /shared:\d+/);
  assert.equal(hostResidue(), before);
});

test.run();
