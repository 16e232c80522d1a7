// Real containers, checked from inside (what the container prints about
// itself) and from the host (cgroups, processes, state) while they run and
// after. Needs root.

import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detectCgroups } from '../../executor/host/cgroups/index.ts';
import { ctc, ctcAsync, example, hostResidue, tempDir, until } from '../helpers.ts';

const tmp = tempDir();
test.after(() => tmp.remove());

/** Writes a .ct.ts source in the temp dir and builds it with the CLI; returns the plan's path. */
function plan(name: string, body: string): string {
  const src = join(tmp.dir, `${name}.ct.ts`);
  writeFileSync(src, `import { container, defaultMounts, hostRootfs } from 'ctc';\nexport default container(${body});\n`);
  const r = ctc(['build', src]);
  assert.is(r.status, 0, r.stderr);
  return join(tmp.dir, `${name}.plan`);
}

const sh = (script: string, extra = '') =>
  `{ hostname: 'probe', rootfs: hostRootfs(), mounts: defaultMounts, ${extra} process: { args: ['/bin/sh', '-c', ${JSON.stringify(script)}] } }`;

test('the README example: hostname from the source, pid 1, root, the tree', () => {
  const built = ctc(['build', example('hello.ct.ts'), '-o', join(tmp.dir, 'hello.plan')]);
  assert.is(built.status, 0, built.stderr);
  const r = ctc(['run', join(tmp.dir, 'hello.plan')]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^hostname: hello$/m);
  assert.match(r.stdout, /^pid: 1$/m);
  assert.match(r.stdout, /^uid=0\(root\) gid=0\(root\)/m);
  assert.match(r.stdout, /^usr$/m);
});

test('inside: the mounts the plan made, with their options, and nothing of the host', () => {
  const p = plan('mounts', sh('cat /proc/self/mountinfo'));
  const r = ctc(['run', p]);
  assert.is(r.status, 0, r.stderr);
  const mounts = new Map(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => {
        const [left, right] = l.split(' - ');
        const f = left.split(' ');
        return [f[4], { options: f[5], fstype: right.split(' ')[0] }] as const;
      }),
  );
  assert.is(mounts.get('/')?.fstype, 'tmpfs');
  assert.is(mounts.get('/proc')?.fstype, 'proc');
  assert.is(mounts.get('/sys')?.fstype, 'sysfs');
  assert.match(mounts.get('/sys')!.options, /^ro,/);
  assert.is(mounts.get('/dev')?.fstype, 'tmpfs');
  assert.is(mounts.get('/dev/pts')?.fstype, 'devpts');
  assert.is(mounts.get('/dev/shm')?.fstype, 'tmpfs');
  assert.is(mounts.get('/dev/mqueue')?.fstype, 'mqueue');
  assert.match(mounts.get('/usr')!.options, /^ro,/, '/usr is mirrored read-only');
  assert.match(mounts.get('/proc')!.options, /nosuid,nodev,noexec/);
  assert.not.ok(
    [...mounts.keys()].some((m) => m.startsWith('/run/ctc') || m.startsWith('/work')),
    'no host mount is visible',
  );
});

test('inside: own namespaces, devices, loopback up, a read-only /usr', () => {
  const script = [
    'echo "pid=$$ host=$(hostname)"',
    'ls -l /dev/null | cut -c1-10',
    'cat /sys/class/net/lo/operstate',
    'ls /sys/class/net | tr "\\n" " "; echo',
    'touch /usr/x 2>/dev/null && echo usr-writable || echo usr-readonly',
    'echo hi > /tmp/x && cat /tmp/x',
  ].join('; ');
  const r = ctc(['run', plan('inside', sh(script))]);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['pid=1 host=probe', 'crw-rw-rw-', 'unknown', 'lo ', 'usr-readonly', 'hi']);
});

test('inside: the process runs as the uid and gid it was given', () => {
  const p = plan('nobody', `{ rootfs: hostRootfs(), mounts: defaultMounts, process: { user: 'nobody', args: ['/usr/bin/id'] } }`);
  const n = ctc(['run', p]);
  assert.is(n.status, 0, n.stderr);
  assert.match(n.stdout, /^uid=65534\(nobody\) gid=65534\(nogroup\)/);
  const q = plan(
    'numeric',
    `{ rootfs: hostRootfs(), mounts: defaultMounts, process: { user: { uid: 1234, gid: 4321, additionalGids: [7] }, args: ['/usr/bin/id'] } }`,
  );
  assert.match(ctc(['run', q]).stdout, /^uid=1234 gid=4321 groups=4321,7/);
});

test('limits are visible inside and set on the host cgroup while it runs; the cgroup is gone after', async () => {
  const id = `limits-${process.pid}`;
  const p = plan(
    'limits',
    sh(
      'cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes 2>/dev/null || cat memory.max; cat pids/pids.max 2>/dev/null || cat pids.max; read line; echo "got $line"',
      "resources: { memory: { limit: '48Mi' }, pids: { limit: 20 } },",
    ),
  );
  const cg = detectCgroups();
  const run = ctcAsync(['run', '--id', id, p]);
  try {
    await until(() => run.out().split('\n').length >= 3, 'the container to print its limits');
    assert.equal(run.out().split('\n').slice(0, 2), [String(48 * 2 ** 20), '20']);
    assert.ok(cg.exists(`/ctc/${id}`), 'the cgroup exists on the host while the container runs');
    const [initPid] = cg.pids(`/ctc/${id}`);
    assert.ok(initPid > 0, 'the init is in the cgroup');
    const state = JSON.parse(ctc(['state', id]).stdout);
    assert.is(state.pid, initPid);
    assert.is(state.status, 'running');
  } finally {
    run.child.stdin.end('bye\n');
  }
  const r = await run.done;
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /got bye/);
  assert.not.ok(cg.exists(`/ctc/${id}`), 'the cgroup is removed after');
  assert.not.ok(existsSync(`/run/ctc/${id}`), 'the state dir is removed after');
});

test("exit codes: the container's own, and 128+signal when it is killed", async () => {
  assert.is(ctc(['run', plan('exit7', sh('exit 7'))]).status, 7);
  const id = `killed-${process.pid}`;
  const run = ctcAsync(['run', '--id', id, plan('sleeper', sh('echo up; exec sleep 30'))]);
  await until(() => run.out().includes('up'), 'the container to start');
  const { pid } = JSON.parse(readFileSync(`/run/ctc/${id}/state.json`, 'utf8'));
  process.kill(pid, 'SIGKILL');
  assert.is((await run.done).status, 137);
});

test('SIGTERM to ctc goes to the container', async () => {
  const run = ctcAsync(['run', plan('trap', sh("trap 'echo got-term; exit 42' TERM; echo up; while :; do sleep 0.05; done"))]);
  await until(() => run.out().includes('up'), 'the container to start');
  run.child.kill('SIGTERM');
  const r = await run.done;
  assert.is(r.status, 42, r.stderr);
  assert.match(r.stdout, /got-term/);
});

test('a missing program fails at proc.exec with ENOENT, and everything is undone', () => {
  const before = hostResidue();
  const r = ctc(['run', plan('missing', `{ rootfs: hostRootfs(), process: { args: ['/no/such/program'] } }`)]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /error CT_STEP_FAILED: step \d+ proc\.exec \(\/no\/such\/program\): failed \[ENOENT\]/);
  assert.match(r.stderr, /missing\.ct\.ts:2:\d+/);
  assert.equal(hostResidue(), before);
});

test('a plan edited by hand is refused with a coded digest error, and nothing is created', () => {
  const p = plan('edited', sh('echo hi'));
  writeFileSync(p, readFileSync(p, 'utf8').replace('name=probe', 'name=other'));
  const before = hostResidue();
  const r = ctc(['run', p]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /error CT_PLAN_DIGEST/);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(hostResidue(), before);
});

test('ctc run with no plan runs the only one here, and refuses to guess between several', () => {
  const dir = tempDir();
  try {
    const src = join(dir.dir, 'app.ct.ts');
    writeFileSync(
      src,
      `import { container, hostRootfs } from 'ctc';\nexport default container({ rootfs: hostRootfs(), process: { args: ['/bin/echo', 'only'] } });\n`,
    );
    assert.is(ctc(['build'], { cwd: dir.dir }).status, 0, 'build defaults to app.ct.ts → app.plan');
    assert.ok(existsSync(join(dir.dir, 'app.plan')));
    assert.is(ctc(['run'], { cwd: dir.dir }).stdout, 'only\n');
    writeFileSync(join(dir.dir, 'b.plan'), '');
    const r = ctc(['run'], { cwd: dir.dir });
    assert.match(r.stderr, /CT_PLAN_AMBIGUOUS: several plans here: app.plan, b.plan/);
  } finally {
    dir.remove();
  }
});

test('a misspelled option: build fails with file:line:col and writes no plan', () => {
  const src = join(tmp.dir, 'typo.ct.ts');
  writeFileSync(
    src,
    `import { container, hostRootfs } from 'ctc';\nexport default container({\n  rootfs: hostRootfs(),\n  procss: { args: ['/bin/true'] },\n});\n`,
  );
  const r = ctc(['build', src]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /typo\.ct\.ts:4:3: error CT_TYPE: TS\d+ .*procss/);
  assert.not.ok(existsSync(join(tmp.dir, 'typo.plan')));
});

test('ctc run never loads the TypeScript compiler (and ctc build does: the probe works)', () => {
  const trace = join(tmp.dir, 'trace');
  const hooks = join(tmp.dir, 'hooks.mjs');
  const register = join(tmp.dir, 'register.mjs');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(trace)}, r.url + '\\n'); return r; }\n`,
  );
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify('file://' + hooks)});\n`);
  const traced = (args: string[], env: Record<string, string> = {}) => {
    writeFileSync(trace, '');
    const r = ctc(args, { env: { NODE_OPTIONS: `--import ${register}`, ...env } });
    assert.is(r.status, 0, r.stderr);
    return readFileSync(trace, 'utf8');
  };
  const p = join(tmp.dir, 'hello-traced.plan');
  // Without the build snapshot (which holds TypeScript already loaded), the build resolves it as a module.
  const built = traced(['build', example('hello.ct.ts'), '-o', p], { CTC_NO_SNAPSHOT: '1' });
  assert.match(built, /node_modules\/typescript\//);
  const ran = traced(['run', p]);
  assert.match(ran, /dist\/ctc\.mjs/);
  assert.not.match(ran, /typescript/);
});

test.run();
