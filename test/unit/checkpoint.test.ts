// Checkpoint and restore: the real `criu check` of this machine (where it
// fails, the error quotes criu's reason; where it passes, nothing is
// thrown), and what ctc tells criu for a plan with bind mounts: external
// mounts and their keys, the cgroup, the freezer, the options, the stdio.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '../../compiler/build.ts';
import { CtcError } from '../../common/error.ts';
import type { Step } from '../../plan/steps.ts';
import {
  type CheckpointDescription,
  criuCheck,
  dumpArgs,
  externalMounts,
  lastErrors,
  restoreArgs,
} from '../../executor/container/checkpoint.ts';
import type { CgroupMount } from '../../executor/host/cgroups/index.ts';
import { fillStep } from '../../plan/placeholders.ts';
import { tempDir } from '../helpers.ts';

const tmp = tempDir();
test.after(() => tmp.remove());

/** What `criu check` says here, asked directly, to know which branch this machine is. */
function criuSays(): { installed: boolean; good: boolean; output: string } {
  const r = spawnSync('criu', ['check'], { encoding: 'utf8' });
  if (r.error) return { installed: false, good: false, output: '' };
  const output = `${r.stdout}${r.stderr}`;
  return { installed: true, good: r.status === 0 && /^Looks good/m.test(output), output };
}

const thrown = (f: () => void): CtcError | undefined => {
  try {
    f();
  } catch (e) {
    if (e instanceof CtcError) return e;
    throw e;
  }
  return undefined;
};

test("criuCheck: criu's own verdict, real on this machine", () => {
  const says = criuSays();
  const e = thrown(criuCheck);
  if (!says.installed) {
    assert.is(e?.code, 'CT_CRIU_MISSING');
    assert.match(e!.hint ?? '', /apt-get install criu/);
    return;
  }
  if (says.good) {
    assert.is(e, undefined, 'criu check says "Looks good.": nothing is thrown');
    return;
  }
  assert.is(e?.code, 'CT_CRIU_UNSUPPORTED', e?.message);
  const errors = says.output.split('\n').filter((l) => l.startsWith('Error') && !/exited, status=/.test(l));
  assert.ok(errors.length > 0, 'criu check printed its reasons');
  assert.ok(e!.message.includes(errors[errors.length - 1].trim()), 'the last reason is quoted');
  assert.not.match(e!.message, /exited, status=/, "the helper processes' exit lines are left out");
  assert.match(e!.message, /^criu \d+\.\d+(\.\d+)? cannot checkpoint or restore on this machine/);
  const vdso = errors.find((l) => /Unexpected rt vDSO area bounds/.test(l));
  if (vdso) {
    assert.ok(e!.message.includes(vdso.trim()), "criu's vdso reason is quoted as criu wrote it");
    assert.match(e!.hint ?? '', /vDSO layout.*newer CRIU/);
  }
});

test('lastErrors: the last Error lines of a criu log, else its last lines', () => {
  const log = '(00.01) a\n(00.02) Error (criu/mount.c:1): mnt: one\n(00.03) b\n(00.04) Error (criu/cr-dump.c:2): Dumping FAILED.\n';
  assert.equal(lastErrors(log), ['(00.02) Error (criu/mount.c:1): mnt: one', '(00.04) Error (criu/cr-dump.c:2): Dumping FAILED.']);
  assert.equal(lastErrors('x\ny\nz\nw\n'), ['y', 'z', 'w']);
});

/** A bundle config with two binds, a device, a masked file and the cgroups bound (no cgroup namespace). */
async function plan(name: string, dataSource: string): Promise<Step[]> {
  const dir = join(tmp.dir, name);
  mkdirSync(join(dir, 'rootfs'), { recursive: true });
  const config = {
    ociVersion: '1.2.0',
    root: { path: 'rootfs' },
    process: { args: ['/bin/sh'], cwd: '/', user: { uid: 0, gid: 0 } },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro'] },
      { destination: '/data', type: 'bind', source: dataSource, options: ['rbind', 'ro'] },
      { destination: '/etc/resolv.conf', type: 'bind', source: '/etc/resolv.conf', options: ['bind', 'ro'] },
    ],
    linux: {
      namespaces: ['pid', 'ipc', 'uts', 'mount', 'network'].map((type) => ({ type })),
      cgroupsPath: `/ctc/${name}`,
      maskedPaths: ['/proc/kcore', '/proc/acpi'],
    },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const steps = (await build(join(dir, 'config.json'))).plan.steps;
  return steps.map((s) => fillStep(s, { id: name, state: `/run/ctc/${name}`, root: '/run/ctc', cgroupParent: '/ctc' }));
}

const v2: CgroupMount[] = [{ kind: 'cgroup2', sub: '', host: '/sys/fs/cgroup' }];
const v1: CgroupMount[] = [
  { kind: 'tmpfs', sub: '' },
  { kind: 'cgroup', sub: 'cpu,cpuacct', data: 'cpu,cpuacct', host: '/sys/fs/cgroup/cpu,cpuacct' },
  { kind: 'symlink', sub: 'cpu', data: 'cpu,cpuacct' },
  { kind: 'cgroup', sub: 'freezer', data: 'freezer', host: '/sys/fs/cgroup/freezer' },
  { kind: 'remount-ro', sub: '' },
];
const stdio = [
  { fd: 0, key: 'pipe:[12]', external: false },
  { fd: 1, key: 'file[1f:2a]', external: true },
  { fd: 2, key: 'tty[8800:18]', external: true },
];

/** The values that follow each occurrence of flag in argv. */
const valuesOf = (argv: string[], flag: string) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]] : []));

test('dumpArgs: binds, the cgroup binds and a masked file as external mounts keyed by destination; cgroup root, freezer, options, stdio', async () => {
  const steps = await plan('cp1', '/srv/data');
  assert.ok(
    steps.some((s) => s.kind === 'mount.cgroup' && s.args.path === '/ctc/cp1'),
    'no cgroup namespace: the cgroup is bound from the host',
  );
  const facts = { pid: 4242, cgroupPath: '/ctc/cp1', cgroups: v2, maskedFiles: ['/proc/kcore'], stdio };
  const argv = dumpArgs(steps, facts, { imagePath: '/img', workPath: '/work', leaveRunning: true, tcpEstablished: true, fileLocks: true });
  assert.equal(argv.slice(0, 3), ['dump', '--tree', '4242']);
  assert.equal(valuesOf(argv, '--external'), [
    'mnt[/sys/fs/cgroup]:/sys/fs/cgroup',
    'mnt[/data]:/data',
    'mnt[/etc/resolv.conf]:/etc/resolv.conf',
    'mnt[/proc/kcore]:/proc/kcore',
    'file[1f:2a]',
    'tty[8800:18]',
  ]);
  assert.not.ok(
    argv.some((a) => a.includes('pipe:[')),
    'a pipe is dumped as a pipe; restore inherits it',
  );
  assert.equal(valuesOf(argv, '--root'), ['/proc/4242/root']);
  assert.equal(valuesOf(argv, '--cgroup-root'), ['/ctc/cp1']);
  assert.equal(valuesOf(argv, '--freeze-cgroup'), ['/sys/fs/cgroup/ctc/cp1']);
  assert.equal(valuesOf(argv, '--images-dir'), ['/img']);
  assert.equal(valuesOf(argv, '--work-dir'), ['/work']);
  assert.equal(valuesOf(argv, '--log-file'), ['dump.log']);
  for (const f of ['--manage-cgroups', '--leave-running', '--tcp-established', '--file-locks', '-v4']) assert.ok(argv.includes(f), f);
  for (const f of ['--ext-unix-sk', '--shell-job']) assert.not.ok(argv.includes(f), `${f} only when asked`);

  const stop = dumpArgs(steps, { ...facts, cgroups: v1 }, { imagePath: '/img' });
  assert.not.ok(stop.includes('--leave-running'), 'without --leave-running criu kills the tree after the dump');
  assert.not.ok(stop.includes('--work-dir'));
  assert.equal(valuesOf(stop, '--freeze-cgroup'), ['/sys/fs/cgroup/freezer/ctc/cp1'], "v1: the freezer hierarchy's cgroup");
  assert.equal(valuesOf(stop, '--external').slice(0, 2), [
    'mnt[/sys/fs/cgroup/cpu,cpuacct]:/sys/fs/cgroup/cpu,cpuacct',
    'mnt[/sys/fs/cgroup/freezer]:/sys/fs/cgroup/freezer',
  ]);
});

test("restoreArgs: each saved key mapped to the restoring plan's source, masks to /dev/null, stdio inherited; a bind the plan lost is refused", async () => {
  const dumped = await plan('cp1', '/srv/data');
  const saved: Pick<CheckpointDescription, 'mounts' | 'stdio'> = { mounts: externalMounts(dumped, v2, ['/proc/kcore']), stdio };
  assert.equal(
    saved.mounts.find((m) => m.dst === '/data'),
    { key: '/data', dst: '/data', src: '/srv/data', kind: 'bind' },
  );
  const steps = await plan('cp2', '/srv/moved');
  const facts = { root: '/run/ctc/cp2/rootfs', pidFile: '/run/ctc/cp2/criu.pid', cgroupPath: '/ctc/cp2', cgroups: v2, saved };
  const argv = restoreArgs(steps, facts, { imagePath: '/img', tcpEstablished: true, shellJob: true });
  assert.equal(argv.slice(0, 2), ['restore', '--restore-detached']);
  assert.equal(valuesOf(argv, '--external'), [
    'mnt[/sys/fs/cgroup]:/sys/fs/cgroup/ctc/cp2',
    'mnt[/data]:/srv/moved',
    'mnt[/etc/resolv.conf]:/etc/resolv.conf',
    'mnt[/proc/kcore]:/dev/null',
  ]);
  assert.equal(valuesOf(argv, '--inherit-fd'), ['fd[0]:pipe:[12]', 'fd[1]:file[1f:2a]', 'fd[2]:tty[8800:18]']);
  assert.equal(valuesOf(argv, '--root'), ['/run/ctc/cp2/rootfs']);
  assert.equal(valuesOf(argv, '--pidfile'), ['/run/ctc/cp2/criu.pid']);
  assert.equal(valuesOf(argv, '--cgroup-root'), ['/ctc/cp2']);
  assert.equal(valuesOf(argv, '--log-file'), ['restore.log']);
  for (const f of ['--manage-cgroups', '--tcp-established', '--shell-job', '--evasive-devices']) assert.ok(argv.includes(f), f);
  assert.not.ok(argv.includes('--leave-running'));

  const lost = { ...saved, mounts: [...saved.mounts, { key: '/gone', dst: '/gone', src: '/srv/gone', kind: 'bind' as const }] };
  const e = thrown(() => restoreArgs(steps, { ...facts, saved: lost }, { imagePath: '/img' }));
  assert.is(e?.code, 'CT_CHECKPOINT');
  assert.match(e!.message, /\/gone bound from \/srv\/gone, which the bundle's plan does not mount/);
});

test.run();
