// The cgroup drivers against the real kernel, on either layout: a hybrid
// host (v1 controllers, and a cgroup2 tree without controllers at
// /sys/fs/cgroup/unified) or a pure v2 one (npm run test:vm). The v2
// driver's create/join/freeze/kill and device filter run on the host's
// cgroup2 tree, wherever it is; limits are checked in the files of the
// host's own layout (v2 limits need controllers a hybrid tree lacks).

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detectCgroups } from '../../executor/host/cgroups/index.ts';
import { CgroupV1, parseMountinfo } from '../../executor/host/cgroups/v1.ts';
import { CgroupV2 } from '../../executor/host/cgroups/v2.ts';
import { compileDeviceFilter, effectiveRules, parseRule } from '../../executor/host/cgroups/device-filter.ts';
import { sharesToWeight } from '../../executor/host/cgroups/keys.ts';
import { pureV2 } from '../cgroup-view.ts';
import { until } from '../helpers.ts';

const sample = [
  '30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:4 - tmpfs tmpfs ro,mode=755',
  '31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:5 - cgroup2 cgroup2 rw,nsdelegate',
  '32 30 0:28 / /sys/fs/cgroup/systemd rw shared:6 - cgroup cgroup rw,xattr,name=systemd',
  '35 30 0:31 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup rw,cpu,cpuacct',
  '36 30 0:32 / /sys/fs/cgroup/memory rw shared:10 - cgroup cgroup rw,memory',
].join('\n');

test('mountinfo: v1 hierarchies with their controllers, and the cgroup2 mount', () => {
  assert.equal(parseMountinfo(sample), {
    hierarchies: [
      { mountpoint: '/sys/fs/cgroup/systemd', controllers: ['name=systemd'] },
      { mountpoint: '/sys/fs/cgroup/cpu,cpuacct', controllers: ['cpu', 'cpuacct'] },
      { mountpoint: '/sys/fs/cgroup/memory', controllers: ['memory'] },
    ],
    unified: '/sys/fs/cgroup/unified',
  });
  const v1 = new CgroupV1(sample);
  assert.equal(v1.mounts(), [
    { kind: 'tmpfs', sub: '' },
    { kind: 'cgroup', sub: 'systemd', data: 'name=systemd', host: '/sys/fs/cgroup/systemd' },
    { kind: 'cgroup', sub: 'cpu,cpuacct', data: 'cpu,cpuacct', host: '/sys/fs/cgroup/cpu,cpuacct' },
    { kind: 'symlink', sub: 'cpu', data: 'cpu,cpuacct' },
    { kind: 'symlink', sub: 'cpuacct', data: 'cpu,cpuacct' },
    { kind: 'cgroup', sub: 'memory', data: 'memory', host: '/sys/fs/cgroup/memory' },
    { kind: 'cgroup2', sub: 'unified', host: '/sys/fs/cgroup/unified' },
    { kind: 'remount-ro', sub: '' },
  ]);
});

const sleeper = () => {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  return { pid: child.pid!, gone: new Promise((r) => child.on('exit', r)) };
};
const cgroupOf = (pid: number) => readFileSync(`/proc/${pid}/cgroup`, 'utf8');
const path = () => `/ctc/test-${randomBytes(4).toString('hex')}`;

/** The host's cgroup2 tree: the whole of /sys/fs/cgroup on a pure v2 host, else the hybrid's unified one. */
const unified = pureV2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/unified';
const hasUnified = existsSync(`${unified}/cgroup.procs`) && Number(statfsSync(unified).type) === 0x63677270;

test('v2 driver on a real cgroup2 tree: create, join, freeze, thaw, kill, remove', async () => {
  if (!hasUnified) return console.log('  (skipped: no cgroup2 tree at /sys/fs/cgroup/unified)');
  const v2 = new CgroupV2(unified);
  const p = path();
  const s = sleeper();
  try {
    v2.create(p);
    assert.ok(v2.exists(p));
    assert.throws(() => v2.create(p), /EEXIST/, 'creating it twice fails');
    v2.join(p, s.pid);
    assert.match(cgroupOf(s.pid), new RegExp(`^0::${p}$`, 'm'));
    assert.equal(v2.pids(p), [s.pid]);
    await v2.freeze(p);
    assert.ok(v2.isFrozen(p));
    assert.match(readFileSync(`/proc/${s.pid}/status`, 'utf8'), /^State:\s+S/m, 'a v2-frozen task sleeps');
    await v2.thaw(p);
    assert.not.ok(v2.isFrozen(p));
    assert.ok(v2.killAll(p), 'cgroup.kill exists on this kernel');
    await s.gone;
    assert.equal(v2.pids(p), [], 'cgroup.kill killed it');
  } finally {
    v2.remove(p);
  }
  assert.not.ok(existsSync(`${unified}${p}`));
  await s.gone;
  v2.remove(p); // removing again is fine: undo must be repeatable
});

test('v2 device filter: an eBPF program that allows the default devices and denies the rest, for real', async () => {
  if (!hasUnified) return console.log('  (skipped: no cgroup2 tree at /sys/fs/cgroup/unified)');
  const v2 = new CgroupV2(unified);
  const p = path();
  // waits for a line, then tries /dev/zero (allowed) and /dev/full (denied)
  const child = spawn(
    'sh',
    ['-c', 'read x; head -c1 /dev/zero >/dev/null && echo zero-ok; head -c1 /dev/full >/dev/null 2>&1 && echo full-ok || echo full-denied'],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const done = new Promise((r) => child.on('close', r));
  try {
    v2.create(p);
    v2.devices(p, ['deny a *:* rwm', 'allow c 1:5 rwm', 'allow c 1:3 rw']);
    v2.join(p, child.pid!);
    child.stdin.end('go\n');
    await done;
    assert.equal(out.trim().split('\n'), ['zero-ok', 'full-denied']);
  } finally {
    child.kill();
    v2.remove(p);
  }
});

test('device rules read as v1 does: an all-device rule resets, the last matching exception wins', () => {
  const { allowByDefault, exceptions } = effectiveRules(
    ['allow c 1:3 rwm', 'deny a *:* rwm', 'allow c 1:5 r', 'allow c *:* m', 'deny c 1:5 rwm'].map(parseRule),
  );
  assert.is(allowByDefault, false);
  assert.equal(
    exceptions.map((r) => [r.allow, r.major, r.minor, r.access]),
    [
      [true, 1, 5, 2],
      [true, '*', '*', 1],
      [false, 1, 5, 7],
    ],
  );
  assert.is(compileDeviceFilter(['deny a *:* rwm']).length, 8 * 8, 'prologue and default verdict only');
});

/**
 * Where each limit of the next test lands on this host's layout, read from
 * the kernel's files: v1's controller hierarchies, or v2's one tree with
 * runc's conversions (shares → weight, OCI's memory+swap → swap alone).
 */
function limitFiles(
  driver: ReturnType<typeof detectCgroups>,
  p: string,
): { read: (file: string) => string; expected: [string, string][]; member: RegExp[] } {
  if (driver.layout === 'v2') {
    const v2 = driver as unknown as CgroupV2;
    return {
      read: (file) => readFileSync(`${v2.root}${p}/${file}`, 'utf8').trim(),
      expected: [
        ['memory.max', String(64 * 2 ** 20)],
        ['memory.swap.max', String(32 * 2 ** 20)],
        ['pids.max', '17'],
        ['cpu.max', '25000 50000'],
        ['cpu.weight', String(sharesToWeight(256))],
      ],
      member: [new RegExp(`^0::${p}$`, 'm')],
    };
  }
  const v1 = driver as unknown as CgroupV1;
  const dir = (file: string) => v1.hierarchies.find((x) => x.controllers.includes(file.split('.')[0]))!.mountpoint;
  return {
    read: (file) => readFileSync(`${dir(file)}${p}/${file}`, 'utf8').trim(),
    expected: [
      ['memory.limit_in_bytes', String(64 * 2 ** 20)],
      ['memory.memsw.limit_in_bytes', String(96 * 2 ** 20)],
      ['pids.max', '17'],
      ['cpu.cfs_quota_us', '25000'],
      ['cpu.cfs_period_us', '50000'],
      ['cpu.shares', '256'],
    ],
    member: [new RegExp(`:memory:${p}$`, 'm'), new RegExp(`:pids:${p}$`, 'm')],
  };
}

test("this host's driver (v1 or pure v2): limits land in the controller files, join and remove", async () => {
  const driver = detectCgroups();
  const p = path();
  const s = sleeper();
  const files = limitFiles(driver, p);
  try {
    driver.create(p);
    driver.limit(p, 'memory.limit', String(64 * 2 ** 20));
    driver.limit(p, 'memory.swap', String(96 * 2 ** 20));
    driver.limit(p, 'pids.limit', '17');
    driver.limit(p, 'cpu.max', '25000 50000');
    driver.limit(p, 'cpu.shares', '256');
    assert.equal(
      files.expected.map(([file]) => [file, files.read(file)]),
      files.expected,
      `${driver.layout} files`,
    );
    driver.join(p, s.pid);
    for (const line of files.member) assert.match(cgroupOf(s.pid), line);
  } finally {
    driver.remove(p);
  }
  await s.gone;
  await until(() => !driver.exists(p), 'the cgroup to be gone');
});

test.run();
