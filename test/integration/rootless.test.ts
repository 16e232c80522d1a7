// Rootless: an ordinary user, made by this test (useradd, removed after), builds
// and runs the rootless example. Without subordinate ids the error says what
// to add to /etc/subuid; with them, root inside is the user outside and the
// other ids are its subordinate ones (newuidmap). The user has no cgroup of
// its own here, so ctc warns once and runs without one; limits are then an
// error unless CTC_ROOTLESS_CGROUPS=skip. Nothing is left: no state, no
// process, no user, and /etc as it was.

import { execFileSync, spawnSync } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  chownSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxRootfs } from '../busybox.ts';
import { example, hostResidue, killedBefore, root as packageRoot, tempDir, until } from '../helpers.ts';

const NAME = `ctcrl${process.pid % 100000}`;
const ETC = ['passwd', 'group', 'shadow', 'gshadow', 'subuid', 'subgid'].flatMap((f) => [`/etc/${f}`, `/etc/${f}-`]);
const saved = new Map(ETC.map((f) => [f, existsSync(f) ? { data: readFileSync(f), mode: statSync(f).mode } : undefined]));
const tmp = tempDir();
chmodSync(tmp.dir, 0o755);
const work = join(tmp.dir, 'work');
const run = join(tmp.dir, 'run');
const before = hostResidue();
let uid = -1;
let gid = -1;

test.before(() => {
  execFileSync('useradd', ['-M', '-s', '/usr/sbin/nologin', NAME]);
  uid = Number(execFileSync('id', ['-u', NAME], { encoding: 'utf8' }));
  gid = Number(execFileSync('id', ['-g', NAME], { encoding: 'utf8' }));
  for (const [dir, mode] of [
    [work, 0o755],
    [run, 0o700],
  ] as const) {
    mkdirSync(dir, { mode });
    chownSync(dir, uid, gid);
  }
  writeFileSync(join(work, 'rootless.ct.ts'), readFileSync(example('rootless.ct.ts')));
  chownSync(join(work, 'rootless.ct.ts'), uid, gid);
});

test.after(() => {
  spawnSync('pkill', ['-KILL', '-u', NAME]); // only if a test failed halfway: the user is this test's own
  spawnSync('userdel', [NAME]);
  // useradd and userdel keep backups (/etc/passwd- …): put every file back as it was
  for (const [f, was] of saved) {
    if (!was) spawnSync('rm', ['-f', f]);
    else if (!existsSync(f) || !readFileSync(f).equals(was.data)) {
      writeFileSync(f, was.data);
      chmodSync(f, was.mode & 0o7777);
    }
  }
  tmp.remove();
});

/** The package as the user can reach it: in place if every directory on the way lets others through, else a copy. */
const cliPath = (() => {
  const reachable = (p: string): boolean => {
    for (let d = p; ; d = dirname(d)) {
      try {
        accessSync(d, constants.X_OK);
        if ((statSync(d).mode & 0o001) === 0) return false;
      } catch {
        return false;
      }
      if (dirname(d) === d) return true;
    }
  };
  if (reachable(packageRoot)) return join(packageRoot, 'dist', 'ctc');
  const copy = join(tmp.dir, 'ctc');
  for (const part of ['package.json', 'dist', 'stdlib', 'node_modules'])
    cpSync(join(packageRoot, part), join(copy, part), { recursive: true });
  return join(copy, 'dist', 'ctc');
})();

const asUser = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(
    'runuser',
    [
      '-u',
      NAME,
      '--',
      'env',
      `HOME=${work}`,
      `XDG_RUNTIME_DIR=${run}`,
      'PATH=/usr/bin:/bin',
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      cliPath,
      ...args,
    ],
    {
      cwd: work,
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
};

const removeSubids = () => {
  for (const f of ['/etc/subuid', '/etc/subgid']) {
    const kept = (existsSync(f) ? readFileSync(f, 'utf8') : '').split('\n').filter((l) => l && !l.startsWith(`${NAME}:`));
    writeFileSync(f, kept.map((l) => l + '\n').join(''));
  }
};
const addSubids = (start: number) => {
  for (const f of ['/etc/subuid', '/etc/subgid'])
    writeFileSync(f, (existsSync(f) ? readFileSync(f, 'utf8') : '') + `${NAME}:${start}:65536\n`);
};

test('without subordinate ids, the error says what to add to /etc/subuid, and nothing is left', () => {
  removeSubids();
  const built = asUser(['build', 'rootless.ct.ts']);
  assert.is(built.status, 0, built.stderr);
  const r = asUser(['run', 'rootless.plan']);
  assert.is(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`CT_USERNS_SUBID: ${NAME} has no range of 65535 subordinate uids in /etc/subuid`));
  assert.match(r.stderr, new RegExp(`add the line "${NAME}:\\d+:65536" to /etc/subuid`));
  assert.equal(readdirSync(join(run, 'ctc')), [], 'no state left');
  assert.equal(hostResidue(), before);
});

test('with them: root inside is the user outside, the rest its subordinate ids, and nothing is left', () => {
  addSubids(300000);
  const r = asUser(['run', '--id', 'rl', 'rootless.plan']);
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).join(' '));
  assert.equal(lines, ['uid_map:', `0 ${uid} 1`, '1 300000 65535', 'id: 0:0', 'made: 0:0']);
  assert.match(r.stderr, /warning: no cgroup for the container/);
  assert.equal(readdirSync(join(run, 'ctc')), []);
  assert.equal(hostResidue(), before);
});

test('the fault sweep as the user: a failure at each step of the rootless example is rolled back completely', () => {
  const steps = [...readFileSync(join(work, 'rootless.plan'), 'utf8').matchAll(/^(\d+) (?:host|init) (\S+)/gm)].map((m) => ({
    n: Number(m[1]),
    kind: m[2],
  }));
  for (const { n, kind } of steps) {
    const r = asUser(['run', '--id', 'rl-fail', 'rootless.plan'], { CTC_FAIL_STEP: String(n) });
    assert.is(r.status, 1, `step ${n}: ${r.stderr}`);
    assert.ok(r.stderr.includes(`error CT_STEP_FAILED: step ${n} ${kind}`), `step ${n} ${kind} is named: ${r.stderr}`);
    assert.equal(readdirSync(join(run, 'ctc')), [], `no state after a failure at step ${n} ${kind}`);
    assert.equal(hostResidue(), before, `nothing is left after a failure at step ${n} ${kind}`);
  }
  console.log(`    fault sweep: ${steps.length} steps of rootless.plan, as an ordinary user`);
});

test('the crash sweep as the user: ctc killed before each step, delete --force or gc restores the host', async () => {
  const steps = [...readFileSync(join(work, 'rootless.plan'), 'utf8').matchAll(/^(\d+) (?:host|init) (\S+)/gm)].map((m) => ({
    n: Number(m[1]),
    kind: m[2],
  }));
  // setpriv execs ctc (the launcher execs node): the kill reaches ctc itself, as in crash.test.ts
  const env = { HOME: work, XDG_RUNTIME_DIR: run, PATH: '/usr/bin:/bin' };
  for (const { n, kind } of steps) {
    await killedBefore(
      [
        'setpriv',
        `--reuid=${uid}`,
        `--regid=${gid}`,
        '--clear-groups',
        '--',
        cliPath,
        'run',
        '--id',
        'rl-crash',
        join(work, 'rootless.plan'),
      ],
      env,
      n,
    );
    const byGc = n % 2 === 0;
    const d = asUser(byGc ? ['gc', '--min-age', '0'] : ['delete', '--force', 'rl-crash']);
    assert.is(d.status, 0, `step ${n} ${kind}: ${d.stderr}`);
    if (byGc) assert.is(d.stdout.trim(), 'rl-crash', `gc finds the container a crash before step ${n} left`);
    await until(
      () => readdirSync(join(run, 'ctc')).length === 0 && JSON.stringify(hostResidue()) === JSON.stringify(before),
      `the host to be clean after step ${n}`,
      5000,
    ).catch(() => undefined);
    assert.equal(readdirSync(join(run, 'ctc')), [], `no state after a crash before step ${n} ${kind}`);
    assert.equal(hostResidue(), before, `nothing is left after a crash before step ${n} ${kind}`);
  }
  console.log(`    crash sweep: ${steps.length} steps of rootless.plan, as an ordinary user`);
});

test('rootless without a cgroup: a limit is an error unless CTC_ROOTLESS_CGROUPS=skip', () => {
  const src = readFileSync(join(work, 'rootless.ct.ts'), 'utf8').replace(
    '  hostname:',
    '  resources: { pids: { limit: 64 } },\n  hostname:',
  );
  writeFileSync(join(work, 'limited.ct.ts'), src);
  chownSync(join(work, 'limited.ct.ts'), uid, gid);
  assert.is(asUser(['build', 'limited.ct.ts']).status, 0);
  const refused = asUser(['run', 'limited.plan']);
  assert.is(refused.status, 1);
  assert.match(
    refused.stderr,
    /CT_ROOTLESS_CGROUP: step \d+ cgroup\.limit \(pids\.limit\): the plan sets pids\.limit, but this user has no cgroup to set it in/,
    refused.stderr,
  );
  const skipped = asUser(['run', 'limited.plan'], { CTC_ROOTLESS_CGROUPS: 'skip' });
  assert.is(skipped.status, 0, skipped.stderr);
  assert.equal(readdirSync(join(run, 'ctc')), []);
  assert.equal(hostResidue(), before);
});

test('`ctc spec --rootless` writes a config the user runs as it is (a busybox root the user does not own)', () => {
  const bundle = join(work, 'bundle');
  mkdirSync(bundle);
  busyboxRootfs(bundle);
  chownSync(bundle, uid, gid);
  const spec = spawnSync('runuser', ['-u', NAME, '--', cliPath, 'spec', '--rootless'], { cwd: bundle, encoding: 'utf8' });
  assert.is(spec.status, 0, spec.stderr);
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  assert.equal(config.linux.uidMappings, [{ containerID: 0, hostID: uid, size: 1 }]);
  config.process.args = ['sh', '-c', 'cat /proc/self/uid_map; id -u'];
  config.process.terminal = false;
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
  const r = asUser(['run', '--bundle', bundle, 'rlspec']);
  assert.is(r.status, 0, r.stderr);
  assert.equal(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).join(' ')),
    [`0 ${uid} 1`, '0'],
  );
  assert.equal(readdirSync(join(run, 'ctc')), []);
  assert.equal(hostResidue(), before);
});

test('without a user namespace an ordinary user is told what to use', () => {
  writeFileSync(join(work, 'hello.ct.ts'), readFileSync(example('hello.ct.ts')));
  chownSync(join(work, 'hello.ct.ts'), uid, gid);
  assert.is(asUser(['build', 'hello.ct.ts']).status, 0);
  const r = asUser(['run', 'hello.plan']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /CT_NOT_ROOT: without root, ctc runs only containers with a user namespace/);
  assert.match(r.stderr, /rootless preset/);
});

test.run();
