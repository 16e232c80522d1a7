// Bundles, checked with Debian's own runc: what `ctc build --emit-bundle`
// and `ctc spec` write must run there, and runc must leave the host as it
// was. Every cgroupsPath is under /ctc/, where the suite's residue check
// looks. Needs root.

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePlan } from '../../plan/text.ts';
import { ctc, example, hostResidue, tempDir } from '../helpers.ts';

const RUNC = '/usr/sbin/runc';
const tmp = tempDir('ctc-bundle-');
test.after(() => tmp.remove());

/** `runc run` in the foreground with its own state root; always deletes what it made. */
function runc(bundle: string, id: string) {
  const state = join(tmp.dir, `runc-state-${id}`);
  try {
    const r = spawnSync(RUNC, ['--root', state, 'run', '--bundle', bundle, id], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    const list = spawnSync(RUNC, ['--root', state, 'list', '-q'], { encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, left: list.stdout.trim() };
  } finally {
    spawnSync(RUNC, ['--root', state, 'delete', '--force', id], { stdio: 'ignore' });
    rmSync(state, { recursive: true, force: true });
  }
}

function assertHostClean(before: string[], id: string) {
  assert.equal(hostResidue(), before, 'runc left nothing ctc looks for (cgroups under /ctc, mounts, processes)');
  for (const h of ['memory', 'pids', 'cpu', 'devices', 'unified', '']) {
    assert.not.ok(existsSync(join('/sys/fs/cgroup', h, 'ctc', id)), `no cgroup ${h}/ctc/${id}`);
  }
}

test('examples/hello.ct.ts as a bundle: runc runs it, with the hostname and pid the plan gives', () => {
  const id = `ctc-hello-${process.pid}`;
  const bundle = join(tmp.dir, id); // its name fills {id} in the cgroup path
  const built = ctc(['build', '--emit-bundle', bundle, example('hello.ct.ts')]);
  assert.is(built.status, 0, built.stderr);
  assert.not.match(built.stderr, /\.plan/, 'the bundle, not a plan');
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  assert.is(config.linux.cgroupsPath, `/ctc/${id}`);
  assert.is(config.root.path, 'rootfs');

  const before = hostResidue();
  const r = runc(bundle, id);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^hostname: hello$/m);
  assert.match(r.stdout, /^pid: 1$/m);
  assert.match(r.stdout, /^uid=0\(root\) gid=0\(root\)/m, 'the /etc/passwd the source writes');
  assert.match(r.stdout, /^usr$/m, 'the mirrored host /usr');
  assert.is(r.left, '', 'runc has no container left');
  assertHostClean(before, id);

  rmSync(bundle, { recursive: true });
  assert.not.ok(existsSync(bundle));
});

test('ctc build --emit-bundle does not overwrite a bundle', () => {
  const bundle = join(tmp.dir, 'twice');
  assert.is(ctc(['build', '--emit-bundle', bundle, example('hello.ct.ts')]).status, 0);
  const again = ctc(['build', '--emit-bundle', bundle, example('hello.ct.ts')]);
  assert.is(again.status, 1);
  assert.match(again.stderr, /error CT_EXISTS: .*config\.json exists\. Remove it first/);
  rmSync(bundle, { recursive: true });
});

test('ctc spec + a busybox rootfs: ctc builds it to a plan, and runc runs it', () => {
  const id = `ctc-spec-${process.pid}`;
  const bundle = join(tmp.dir, id);
  mkdirSync(join(bundle, 'rootfs', 'bin'), { recursive: true });
  copyFileSync('/usr/bin/busybox', join(bundle, 'rootfs', 'bin', 'busybox'));
  symlinkSync('busybox', join(bundle, 'rootfs', 'bin', 'sh'));

  const spec = ctc(['spec', '--bundle', bundle]);
  assert.is(spec.status, 0, spec.stderr);
  const file = join(bundle, 'config.json');
  const again = ctc(['spec', '--bundle', bundle]);
  assert.is(again.status, 1);
  assert.match(again.stderr, /error CT_EXISTS: File .*config\.json exists\. Remove it first/);

  const config = JSON.parse(readFileSync(file, 'utf8'));
  assert.is(config.process.terminal, true, 'as runc spec writes it');
  config.process.terminal = false;
  config.process.args = [
    'sh',
    '-c',
    'echo "hostname: $(busybox hostname)"; echo "pid: $$"; busybox touch /x 2>/dev/null || echo read-only',
  ];
  writeFileSync(file, JSON.stringify(config, null, '\t'));

  const built = ctc(['build', file]);
  assert.is(built.status, 0, built.stderr);
  const plan = parsePlan(readFileSync(join(bundle, 'config.plan'), 'utf8'));
  assert.equal(
    plan.steps.find((s) => s.kind === 'rootfs.bind')?.args,
    { dir: join(bundle, 'rootfs') },
    'root.path is relative to the bundle',
  );
  assert.is(plan.steps.find((s) => s.kind === 'uts.hostname')?.args.name, 'ctc');
  assert.ok(
    plan.steps.every((s) => /^config\.json:\d+:\d+$/.test(s.source ?? '')),
    'every step names its config line',
  );
  rmSync(join(bundle, 'config.plan'));

  // runc has no {id}: put its cgroup where the residue check looks.
  config.linux.cgroupsPath = `/ctc/${id}`;
  writeFileSync(file, JSON.stringify(config, null, '\t'));
  const before = hostResidue();
  const r = runc(bundle, id);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['hostname: ctc', 'pid: 1', 'read-only']);
  assertHostClean(before, id);
  rmSync(bundle, { recursive: true });
});

test("runc's own default config (`runc spec`) runs under ctc as it is, as under runc", () => {
  const id = `runc-spec-${process.pid}`;
  const bundle = join(tmp.dir, id);
  mkdirSync(join(bundle, 'rootfs', 'bin'), { recursive: true });
  copyFileSync('/usr/bin/busybox', join(bundle, 'rootfs', 'bin', 'busybox'));
  for (const applet of ['sh', 'cat', 'grep', 'ls']) symlinkSync('busybox', join(bundle, 'rootfs', 'bin', applet));
  assert.is(spawnSync(RUNC, ['spec'], { cwd: bundle }).status, 0);
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  // Only what a caller changes anyway: no terminal, the command, and a cgroup where the residue check looks.
  config.process.terminal = false;
  config.process.args = ['sh', '-c', 'grep CapAmb /proc/self/status; ls /sys/fs/cgroup/pids/ | grep -c "^ctc$"; exit 0'];
  config.linux.cgroupsPath = `/ctc/${id}`;
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config, null, 2));
  const before = hostResidue();
  const r = ctc(['run', '--bundle', bundle, id]);
  assert.is(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /config\.json:\d+:\d+: warning CT_CAP_AMBIENT: .*CAP_KILL/,
    'the ambient capabilities the kernel would not raise are named',
  );
  const [amb, hostDirs] = r.stdout.trim().split('\n');
  assert.match(amb, /^CapAmb:\s+0+$/);
  if (existsSync('/sys/fs/cgroup/pids'))
    assert.is(hostDirs, '0', 'no cgroup namespace: the container sees its own cgroup, not the host tree');
  assert.equal(hostResidue(), before);
  const theirs = runc(bundle, id);
  assert.is(theirs.status, 0, theirs.stderr);
  assert.is(theirs.stdout, r.stdout, 'runc shows the container the same');
});

test.run();
