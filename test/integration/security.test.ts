// Process security, read back from inside real containers: the five
// capability sets, no_new_privs, seccomp, rlimits, umask, groups, oom score,
// sysctls, users by name; and the refusals (unknown names at build time, an
// LSM label on a host without that LSM at run time).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { capabilityNumbers, defaultCapabilities, type Capability } from '../../stdlib/capabilities.ts';
import { busyboxRootfs } from '../busybox.ts';
import { ctc, hostResidue, tempDir } from '../helpers.ts';

const tmp = tempDir();
test.after(() => tmp.remove());
const before = hostResidue();

function run(name: string, process: string, script: string, top = ''): { status: number | null; stdout: string; stderr: string } {
  const src = join(tmp.dir, `${name}.ct.ts`);
  writeFileSync(
    src,
    `import { container, defaultMounts, hostRootfs, dirRootfs, defaultCapabilities, capabilities, defaultSeccomp } from 'ctc';\n` +
      `export default container({ rootfs: hostRootfs(), mounts: defaultMounts, ${top}\n  process: { args: ['/bin/sh', '-c', ${JSON.stringify(script)}], ${process} } });\n`,
  );
  const b = ctc(['build', src]);
  assert.is(b.status, 0, b.stderr);
  return ctc(['run', join(tmp.dir, `${name}.plan`)]);
}

const mask = (caps: readonly Capability[]) => caps.reduce((m, c) => m | (1n << BigInt(capabilityNumbers[c])), 0n);
const hex = (n: bigint) => n.toString(16).padStart(16, '0');
const status = (out: string, field: string) => new RegExp(`^${field}:\\s+(\\S+)$`, 'm').exec(out)?.[1];
const SETS = ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'];
const caps = (out: string) => Object.fromEntries(SETS.map((f) => [f, status(out, f)]));

test('the default capability set, exactly, and no_new_privs', () => {
  const r = run('caps-default', '', 'cat /proc/self/status');
  assert.is(r.status, 0, r.stderr);
  const d = hex(mask(defaultCapabilities));
  assert.equal(caps(r.stdout), { CapInh: hex(0n), CapPrm: d, CapEff: d, CapBnd: d, CapAmb: hex(0n) });
  assert.is(status(r.stdout, 'NoNewPrivs'), '1');
  assert.is(status(r.stdout, 'Seccomp'), '2', 'the default seccomp filter is loaded');
});

test('seccomp: a denied syscall returns the configured errno, a kill rule kills, unconfined loads nothing', () => {
  const denied = run(
    'seccomp-errno',
    `seccomp: { defaultAction: 'allow', rules: [{ syscalls: ['mkdir', 'mkdirat'], action: 'errno', errno: 'EACCES' }, { syscalls: ['uname'], action: 'kill_process' }] },`,
    'mkdir /tmp/x 2>&1; echo mkdir=$?; uname; echo uname=$?',
  );
  assert.is(denied.status, 0, denied.stderr);
  assert.match(denied.stdout, /Permission denied/);
  assert.match(denied.stdout, /^mkdir=1$/m);
  assert.match(denied.stdout, /^uname=159$/m, 'uname was killed by SIGSYS (128+31)');
  const unconfined = run('seccomp-none', `seccomp: 'unconfined',`, 'grep Seccomp: /proc/self/status');
  assert.match(unconfined.stdout, /Seccomp:\s+0/);
});

test('the default seccomp profile refuses what reaches the host: unshare, mount', () => {
  const r = run(
    'seccomp-default',
    '',
    'unshare -U true 2>&1; echo unshare=$?; mkdir -p /tmp/m && mount -t tmpfs none /tmp/m 2>&1; echo mount=$?; echo still-alive',
  );
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^unshare=1$/m);
  assert.match(r.stdout, /^mount=(1|32)$/m);
  assert.match(r.stdout, /still-alive/);
});

test('an empty capability set leaves root with nothing', () => {
  const r = run('caps-none', 'capabilities: [],', 'cat /proc/self/status');
  assert.is(r.status, 0, r.stderr);
  assert.equal(caps(r.stdout), { CapInh: hex(0n), CapPrm: hex(0n), CapEff: hex(0n), CapBnd: hex(0n), CapAmb: hex(0n) });
});

test('ambient capabilities raised for a non-root user', () => {
  const set = `['CAP_NET_BIND_SERVICE']`;
  const r = run(
    'caps-ambient',
    `user: { uid: 1000, gid: 1000 }, capabilities: { bounding: ${set}, effective: ${set}, permitted: ${set}, inheritable: ${set}, ambient: ${set} },`,
    'cat /proc/self/status; id -u',
  );
  assert.is(r.status, 0, r.stderr);
  const one = hex(1n << 10n);
  assert.equal(caps(r.stdout), { CapInh: one, CapPrm: one, CapEff: one, CapBnd: one, CapAmb: one });
  assert.match(r.stdout, /^1000$/m);
});

test('capabilities.drop and add build lists from the preset', () => {
  const r = run(
    'caps-helpers',
    `capabilities: capabilities.add(capabilities.drop(defaultCapabilities, 'CAP_NET_RAW', 'CAP_MKNOD'), 'CAP_SYS_NICE'),`,
    'cat /proc/self/status',
  );
  const want = mask([...defaultCapabilities.filter((c) => c !== 'CAP_NET_RAW' && c !== 'CAP_MKNOD'), 'CAP_SYS_NICE']);
  assert.is(caps(r.stdout).CapEff, hex(want));
});

test('rlimits, umask, groups and oom_score_adj read back as configured', () => {
  const r = run(
    'limits-etc',
    `user: { uid: 1000, gid: 1000, additionalGids: [5, 7] }, umask: 0o027, oomScoreAdj: 500, rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1234, hard: 2000 }, { type: 'RLIMIT_CORE', soft: 0, hard: 'unlimited' }],`,
    'ulimit -Sn; ulimit -Hn; ulimit -Hc; umask; id -G; cat /proc/self/oom_score_adj',
  );
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['1234', '2000', 'unlimited', '0027', '1000 5 7', '500']);
});

test('namespaced sysctls are set in the container only', () => {
  const r = run(
    'sysctl',
    '',
    'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni',
    `sysctl: { 'net.ipv4.ip_forward': '1', 'kernel.shmmni': '1234' },`,
  );
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['1', '1234']);
});

test('a misspelled capability or a host-wide sysctl is a compile error at its line and column', () => {
  const src = join(tmp.dir, 'typos.ct.ts');
  writeFileSync(
    src,
    `import { container, hostRootfs } from 'ctc';\nexport default container({\n  rootfs: hostRootfs(),\n  sysctl: { 'kernel.panic': '1' },\n  process: { args: ['/bin/true'], capabilities: ['CAP_NET_BIND_SERVIC'] },\n});\n`,
  );
  const r = ctc(['build', src]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /typos\.ct\.ts:5:50: error CT_TYPE: TS\d+ .*CAP_NET_BIND_SERVIC.*Did you mean/);
  writeFileSync(
    src,
    `import { container, hostRootfs } from 'ctc';\nexport default container({\n  rootfs: hostRootfs(),\n  sysctl: { 'kernel.panic': '1' },\n  process: { args: ['/bin/true'] },\n});\n`,
  );
  const s = ctc(['build', src]);
  assert.is(s.status, 1);
  assert.match(s.stderr, /typos\.ct\.ts:4:13: error CT_SYSCTL: sysctl kernel\.panic is not namespaced/);
});

test("a user by name is looked up in the image's own /etc/passwd when the container runs", () => {
  const rootfs = busyboxRootfs(join(tmp.dir, 'bb'));
  const src = join(tmp.dir, 'byname.ct.ts');
  writeFileSync(
    src,
    `import { container, defaultMounts, dirRootfs } from 'ctc';\nexport default container({ rootfs: dirRootfs(${JSON.stringify(rootfs)}), mounts: defaultMounts, process: { user: 'nobody', args: ['/bin/id'] } });\n`,
  );
  assert.is(ctc(['build', src]).status, 0);
  const r = ctc(['run', join(tmp.dir, 'byname.plan')]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^uid=65534\(nobody\) gid=65534/);
  writeFileSync(
    src,
    `import { container, defaultMounts, dirRootfs } from 'ctc';\nexport default container({ rootfs: dirRootfs(${JSON.stringify(rootfs)}), mounts: defaultMounts, process: { user: 'www', args: ['/bin/id'] } });\n`,
  );
  assert.is(ctc(['build', src]).status, 0);
  const missing = ctc(['run', join(tmp.dir, 'byname.plan')]);
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /step \d+ proc\.user.*\[ESRCH\]/);
  assert.equal(hostResidue(), before);
});

test('an AppArmor profile on a host without AppArmor: a build warning, then a coded refusal that creates nothing', () => {
  const src = join(tmp.dir, 'aa.ct.ts');
  writeFileSync(
    src,
    `import { container, hostRootfs } from 'ctc';\nexport default container({ rootfs: hostRootfs(), process: { args: ['/bin/true'], apparmorProfile: 'ctc-default' } });\n`,
  );
  const b = ctc(['build', src]);
  assert.is(b.status, 0);
  assert.match(b.stderr, /warning: the plan asks for AppArmor, which is not active on this host/);
  const r = ctc(['run', join(tmp.dir, 'aa.plan')]);
  assert.is(r.status, 1);
  assert.match(
    r.stderr,
    /error CT_LSM_ABSENT: step \d+ proc\.apparmor: the plan asks for an AppArmor label, but AppArmor is not active on this host/,
  );
  assert.equal(hostResidue(), before);
});

test.run();
