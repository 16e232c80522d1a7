// OCI hooks on real containers: each moment's hook runs when it should, in
// the namespace the runtime spec names, with the state on stdin; a failing
// hook stops and undoes the container (or only warns, after the start).
// The hooks record what they saw into a log of the test's own.

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isAlive } from '../../executor/container/proc.ts';
import { defaultMounts } from '../../stdlib/mounts.ts';
import { busyboxBundle } from '../busybox.ts';
import { ctc, hostResidue, root as pkgRoot, tempDir, until } from '../helpers.ts';

const tmp = tempDir();
const state = join(tmp.dir, 'state');
const logs = join(tmp.dir, 'log');
mkdirSync(logs);
const before = hostResidue([state]);
const ids = ['hk1', 'hk2', 'hk3', 'hk4', 'hk5'];
test.after(() => {
  for (const id of ids) ctc(['--root', state, 'delete', '--force', id]);
  tmp.remove();
});

const R = (...args: string[]) => ctc(['--root', state, ...args]);
const native = join(pkgRoot, 'dist', 'ctc');

// A host-side hook: appends what it saw as one JSON line to logs/<id>.
const recorder = join(tmp.dir, 'record.mjs');
writeFileSync(
  recorder,
  `import { appendFileSync, existsSync, readFileSync, readlinkSync } from 'node:fs';
const [when, status] = process.argv.slice(2);
const state = JSON.parse(readFileSync(0, 'utf8'));
const look = (p) => { try { return readlinkSync(p); } catch { return ''; } };
appendFileSync(${JSON.stringify(logs)} + '/' + state.id, JSON.stringify({
  when, state, uts: look('/proc/self/ns/uts'), exe: look('/proc/' + state.pid + '/exe'),
  initAlive: existsSync('/proc/' + state.pid), env: process.env.HOOK_ENV ?? null, path: process.env.PATH ?? null,
}) + '\\n');
process.exit(Number(status ?? 0));
`,
);
const hook = (when: string, status = 0, more: Record<string, unknown> = {}) => ({
  path: process.execPath,
  args: ['node', recorder, when, String(status)],
  env: ['HOOK_ENV=yes'],
  ...more,
});
const records = (id: string) =>
  existsSync(join(logs, id))
    ? readFileSync(join(logs, id), 'utf8')
        .trim()
        .split('\n')
        .map(
          (l) =>
            JSON.parse(l) as {
              when: string;
              state: Record<string, unknown>;
              uts: string;
              exe: string;
              initAlive: boolean;
              env: string | null;
              path: string | null;
            },
        )
    : [];

/** A busybox bundle whose /log is the test's log dir, so a hook in the container's root can write there. */
const bundle = (id: string, args: string[], hooks: Record<string, unknown[]>, annotations?: Record<string, string>) =>
  busyboxBundle(join(tmp.dir, id), {
    id,
    args,
    extra: {
      hooks,
      ...(annotations ? { annotations } : {}),
      mounts: [
        ...defaultMounts.filter((m) => m.type !== 'cgroup'),
        { destination: '/log', type: 'bind', source: logs, options: ['rbind', 'rw'] },
      ],
    },
  });

/** runc's create keeps the caller's stdio for the container: a file, not a pipe spawnSync would wait on. */
function create(id: string, dir: string) {
  const out = join(tmp.dir, `${id}.create`);
  const fd = openSync(out, 'w');
  try {
    const r = spawnSync(process.execPath, [join(pkgRoot, 'dist', 'ctc.mjs'), '--root', state, 'create', '--bundle', dir, id], {
      stdio: ['ignore', fd, fd],
      timeout: 30_000,
    });
    return { status: r.status, stderr: readFileSync(out, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

/** The startContainer hook runs in the container's root: busybox's sh, writing into /log. */
const startHook = (id: string, status = 0) => ({
  path: '/bin/sh',
  args: ['sh', '-c', `{ cat; echo; readlink /proc/self/ns/uts; } > /log/${id}.start; exit ${status}`],
});

test('a hook of each kind runs at its moment, in its namespace, with the state on stdin', async () => {
  const id = 'hk1';
  const annotations = { 'org.example.role': 'web', 'org.example.query': 'a=b' };
  const dir = bundle(
    id,
    ['/bin/sleep', '30'],
    {
      prestart: [hook('prestart')],
      createRuntime: [hook('createRuntime')],
      createContainer: [hook('createContainer')],
      startContainer: [startHook(id)],
      poststart: [hook('poststart')],
      poststop: [hook('poststop')],
    },
    annotations,
  );
  const created = create(id, dir);
  assert.is(created.status, 0, created.stderr);
  const pid = JSON.parse(R('state', id).stdout).pid as number;
  const ownUts = readlinkSync('/proc/self/ns/uts');
  const initUts = readlinkSync(`/proc/${pid}/ns/uts`);
  assert.is.not(initUts, ownUts);

  const atCreate = records(id);
  assert.equal(
    atCreate.map((r) => r.when),
    ['prestart', 'createRuntime', 'createContainer'],
    'create runs the create hooks only',
  );
  for (const r of atCreate) {
    assert.equal(r.state, { ociVersion: '1.2.0', id, status: 'creating', pid, bundle: dir, annotations }, r.when);
    assert.is(r.env, 'yes', 'the hook gets its env');
    assert.is(r.path, null, "and nothing else of ctc's");
  }
  assert.equal(
    atCreate.map((r) => r.uts),
    [ownUts, ownUts, initUts],
    "createContainer runs in the container's namespaces, the others on the host",
  );
  assert.not.ok(existsSync(join(logs, `${id}.start`)));

  // the native launcher hands a start with hooks to the CLI
  const started = spawnSync(native, ['--root', state, 'start', id], { encoding: 'utf8', timeout: 30_000 });
  assert.is(started.status, 0, started.stderr);
  const [startState, startUts] = readFileSync(join(logs, `${id}.start`), 'utf8')
    .trim()
    .split('\n');
  assert.equal(JSON.parse(startState), { ociVersion: '1.2.0', id, status: 'created', pid, bundle: dir, annotations });
  assert.equal(JSON.parse(R('state', id).stdout).annotations, annotations, '`ctc state` shows them too');
  assert.is(startUts, initUts, "startContainer runs in the container (its root's sh, its namespaces)");
  const poststart = records(id)[3];
  assert.is(poststart.when, 'poststart');
  assert.is(poststart.state.status, 'running');
  assert.is(poststart.uts, ownUts);
  assert.match(poststart.exe, /busybox/, 'poststart comes once the process runs');

  assert.is(R('kill', id, 'KILL').status, 0);
  await until(() => JSON.parse(R('state', id).stdout).status === 'stopped', 'the container to stop');
  assert.is(records(id).length, 4, 'poststop waits for the delete');
  const deleted = R('delete', id);
  assert.is(deleted.status, 0, deleted.stderr);
  const poststop = records(id)[4];
  assert.is(poststop.when, 'poststop');
  assert.is(poststop.state.status, 'stopped');
  assert.not.ok(poststop.initAlive, 'poststop comes after the container is gone');
  assert.equal(hostResidue([state]), before);
});

test('a failing createRuntime hook: CT_HOOK_FAILED, the process never runs, poststop runs, nothing is left', () => {
  const id = 'hk2';
  const dir = bundle(id, ['/bin/sh', '-c', 'echo ran > /log/hk2.ran'], {
    createRuntime: [hook('createRuntime', 3)],
    poststop: [hook('poststop')],
  });
  const r = R('run', '--bundle', dir, id);
  assert.is(r.status, 1);
  assert.match(r.stderr, /error CT_HOOK_FAILED: step \d+ hook\.run .*the createRuntime hook .* exited with status 3/);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  assert.not.ok(existsSync(join(logs, 'hk2.ran')), 'the process never ran');
  assert.equal(
    records(id).map((x) => x.when),
    ['createRuntime', 'poststop'],
  );
  assert.not.ok(existsSync(join(state, id)));
  assert.equal(hostResidue([state]), before);
});

test('a hook past its timeout is killed and fails the run; the hook is gone too', () => {
  const id = 'hk3';
  const pidFile = join(tmp.dir, 'hk3.hookpid');
  // on the host, so $$ is a host pid to look for afterwards
  const slow = { path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`], timeout: 1 };
  const dir = bundle(id, ['/bin/true'], { createRuntime: [slow] });
  const t0 = Date.now();
  const r = R('run', '--bundle', dir, id);
  assert.is(r.status, 1);
  assert.match(r.stderr, /CT_HOOK_FAILED.*the createRuntime hook \/bin\/sh did not finish within 1 s/);
  assert.ok(Date.now() - t0 < 10_000, 'not the whole 30 s');
  const hookPid = Number(readFileSync(pidFile, 'utf8'));
  assert.ok(hookPid > 0);
  assert.not.ok(isAlive(hookPid), 'the hook died with ctc-init');
  assert.equal(hostResidue([state]), before);
});

test('poststart and poststop failures are warnings: the container runs and is removed', () => {
  const id = 'hk4';
  const dir = bundle(id, ['/bin/sh', '-c', 'echo ran'], { poststart: [hook('poststart', 1)], poststop: [hook('poststop', 2)] });
  const r = R('run', '--bundle', dir, id);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /ran/);
  assert.match(r.stderr, /warning: the poststart hook .* exited with status 1/);
  assert.match(r.stderr, /warning: the poststop hook .* exited with status 2/);
  assert.equal(hostResidue([state]), before);
});

test('a failing startContainer hook at `ctc start`: the container is stopped; delete removes it', async () => {
  const id = 'hk5';
  const dir = bundle(id, ['/bin/sleep', '30'], {
    startContainer: [startHook(id, 4)],
    poststart: [hook('poststart')],
    poststop: [hook('poststop')],
  });
  const created = create(id, dir);
  assert.is(created.status, 0, created.stderr);
  const started = R('start', id);
  assert.is(started.status, 1);
  assert.match(started.stderr, /CT_HOOK_FAILED.*the startContainer hook \/bin\/sh exited with status 4/);
  await until(() => JSON.parse(R('state', id).stdout).status === 'stopped', 'the container to stop');
  assert.equal(
    records(id).map((x) => x.when),
    [],
    'no poststart after a failed start',
  );
  assert.is(R('delete', id).status, 0);
  assert.equal(
    records(id).map((x) => x.when),
    ['poststop'],
  );
  assert.equal(hostResidue([state]), before);
});

test.run();
