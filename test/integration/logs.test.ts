// A detached container's log (issue 22): run -d leaves the caller's stdout
// and stderr alone (pipes here: spawnSync would wait for a container that
// held them), ctc-init's monitor writes the container's two streams into
// <state>/ctr.log, and `ctc logs` prints them back, with --tail, -f (which
// sees what is written after it started and ends with the container), the
// rotation at CTC_LOG_MAX_SIZE, and delete taking the files with the state
// dir. Through the native launcher and the TypeScript CLI. Needs root.

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxBundle } from '../busybox.ts';
import { ctc, ctcAsync, hostResidue, root as repoRoot, tempDir, until } from '../helpers.ts';

const tmp = tempDir('ctc-logs-');
const root = join(tmp.dir, 'state');
const ids: string[] = [];
const mine = () => hostResidue([root]).filter((l) => l.includes(root) || ids.some((id) => l.includes(id)));
const before = mine();
const R = (...args: string[]) => ctc(['--root', root, ...args]);
test.after(() => {
  for (const id of ids) R('delete', '--force', id);
  tmp.remove();
});

const NO_NODE = { CTC_NODE: '/nonexistent/node' };
const RECORD = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) [FP] /;

function bundle(id: string, script: string): string {
  if (!ids.includes(id)) ids.push(id);
  return busyboxBundle(join(tmp.dir, id), { id, args: ['sh', '-c', script] });
}

/** `ctc run -d --bundle DIR ID` with pipes for stdout and stderr: through the launcher, or the CLI. */
function runD(dir: string, id: string, env: Record<string, string> = {}) {
  const r = spawnSync(join(repoRoot, 'dist', 'ctc'), ['--root', root, 'run', '-d', '--bundle', dir, id], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CTC_NODE: process.execPath, ...env },
    timeout: 30_000,
  });
  assert.is(r.error, undefined, 'run -d returned (nothing held its pipes)');
  return r;
}

const stopped = (id: string) => JSON.parse(R('state', id).stdout).status === 'stopped';

test('run -d writes nothing to its caller; ctc logs prints stdout on stdout and stderr on stderr; delete takes the log (CLI, then the launcher)', async () => {
  const id = `logs-both-${process.pid}`;
  const dir = bundle(id, 'echo out1; echo err1 >&2; echo out2; printf "no newline" >&2');
  for (const [via, env] of [
    ['the TypeScript CLI', { CTC_NATIVE: '0' }],
    ['the native launcher', NO_NODE],
  ] as const) {
    const r = runD(dir, id, env);
    assert.is(r.status, 0, `${via}: ${r.stderr}`);
    assert.is(r.stdout, '', `${via}: nothing on the caller's stdout`);
    assert.is(r.stderr, '', `${via}: nothing on the caller's stderr`);
    await until(() => stopped(id), `${id} to stop`);
    const logs = R('logs', id);
    assert.is(logs.status, 0, logs.stderr);
    assert.is(logs.stdout, 'out1\nout2\n', via);
    assert.is(logs.stderr, 'err1\nno newline', via);
    const raw = readFileSync(join(root, id, 'ctr.log'), 'utf8')
      .split('\n')
      .filter(Boolean);
    assert.is(raw.length, 4);
    for (const line of raw) assert.match(line, RECORD);
    assert.match(raw.join('\n'), /stderr P no newline$/, 'a last line without a newline is a part');
    assert.is(statSync(join(root, id, 'ctr.log')).mode & 0o777, 0o600);
    const stamped = R('logs', '-t', id).stdout.split('\n')[0];
    assert.match(stamped, /^\d{4}-\d\d-\d\dT[\d:.]+Z out1$/, '-t: the time first');
    // deleted the same way: the launcher's delete (native/launcher/files.c) or the CLI's
    const d = spawnSync(join(repoRoot, 'dist', 'ctc'), ['--root', root, 'delete', id], {
      encoding: 'utf8',
      env: { ...process.env, CTC_NODE: process.execPath, ...env },
    });
    assert.is(d.status, 0, d.stderr);
    assert.not.ok(existsSync(join(root, id)), `${via}: the state dir, log and all, is gone`);
  }
  assert.equal(mine(), before);
});

test('--tail N: the last N lines; -f sees a line written after it started and ends when the container stops', async () => {
  const id = `logs-follow-${process.pid}`;
  // the late lines come 3 s after the early ones: time for two ctc logs and a third to start, on a busy machine
  const dir = bundle(id, 'for i in 1 2 3 4 5; do echo early$i; done; sleep 3; echo late; echo late-err >&2; sleep 0.5');
  assert.is(runD(dir, id).status, 0);
  await until(
    () => existsSync(join(root, id, 'ctr.log')) && readFileSync(join(root, id, 'ctr.log'), 'utf8').includes('early5'),
    'the first lines',
  );
  assert.is(R('logs', '--tail', '2', id).stdout, 'early4\nearly5\n');
  assert.is(R('logs', '-n', '0', id).stdout, '');
  const f = ctcAsync(['--root', root, 'logs', '-f', '--tail', '1', id]);
  await until(() => f.out().includes('early5') || f.child.exitCode !== null, 'logs -f to print the tail', 30_000);
  const early = f.out();
  const r = await f.done;
  assert.is(r.status, 0, r.stderr);
  assert.is(early, 'early5\n', 'the tail, before the late line');
  assert.is(r.stdout, 'early5\nlate\n');
  assert.is(r.stderr, 'late-err\n');
  assert.ok(stopped(id), 'it ended when the container did');
  assert.is(R('delete', id).status, 0);
  assert.equal(mine(), before);
});

test('rotation: a container writing past CTC_LOG_MAX_SIZE keeps two files under the cap, the newest lines in order', async () => {
  const id = `logs-rotate-${process.pid}`;
  const cap = 65536;
  // ~330 KB: five caps
  const dir = bundle(
    id,
    `i=0; while [ $i -lt 4000 ]; do echo "line $i ................................................................"; i=$((i+1)); done`,
  );
  for (const [via, env] of [
    ['the TypeScript CLI', { CTC_NATIVE: '0' }],
    ['the native launcher', NO_NODE],
  ] as const) {
    assert.is(runD(dir, id, { ...env, CTC_LOG_MAX_SIZE: String(cap) }).status, 0, via);
    await until(() => stopped(id), `${id} to stop`);
    for (const f of ['ctr.log', 'ctr.log.1']) {
      const size = statSync(join(root, id, f)).size;
      assert.ok(size > 0 && size <= cap, `${via}: ${f} is ${size} bytes`);
    }
    const lines = R('logs', id).stdout.split('\n').filter(Boolean);
    const n = lines.map((l) => Number(/^line (\d+) /.exec(l)?.[1]));
    assert.is(n[n.length - 1], 3999, `${via}: the last line is there`);
    assert.ok(n[0] > 0, `${via}: the oldest went with the rotation`);
    assert.equal(
      n,
      n.map((_, k) => n[0] + k),
      `${via}: what is kept is contiguous`,
    );
    assert.is(R('logs', '--tail', '3', id).stdout.split('\n').filter(Boolean).length, 3);
    assert.is(R('delete', id).status, 0);
  }
  assert.equal(mine(), before);
});

test('create: a caller whose stdout and stderr are /dev/null gets a log; one with its own stdio keeps it (as runc); logs of these and of a missing container', async () => {
  const id = `logs-create-${process.pid}`;
  const dir = bundle(id, 'echo created-out; echo created-err >&2');
  for (const [via, env] of [
    ['the TypeScript CLI', { CTC_NATIVE: '0' }],
    ['the native launcher', {}],
  ] as const) {
    const c = spawnSync(join(repoRoot, 'dist', 'ctc'), ['--root', root, 'create', '--bundle', dir, id], {
      stdio: 'ignore',
      env: { ...process.env, CTC_NODE: process.execPath, ...env },
      timeout: 30_000,
    });
    assert.is(c.status, 0, via);
    assert.is(R('start', id).status, 0);
    await until(() => stopped(id), `${id} to stop`);
    const logs = R('logs', id);
    assert.is(logs.stdout, 'created-out\n', via);
    assert.is(logs.stderr, 'created-err\n', via);
    assert.is(R('delete', id).status, 0);
  }
  // a file, not a pipe: the container holds it (spawnSync would wait for it)
  const out = openSync(join(tmp.dir, 'create.out'), 'w');
  const own = spawnSync(join(repoRoot, 'dist', 'ctc'), ['--root', root, 'create', '--bundle', dir, id], {
    stdio: ['ignore', out, out],
    env: { ...process.env, CTC_NODE: process.execPath },
    timeout: 30_000,
  });
  closeSync(out);
  assert.is(own.status, 0, readFileSync(join(tmp.dir, 'create.out'), 'utf8'));
  assert.is(R('start', id).status, 0);
  await until(() => stopped(id), `${id} to stop`);
  assert.is(readFileSync(join(tmp.dir, 'create.out'), 'utf8'), 'created-out\ncreated-err\n', "the caller's stdio had the output");
  const none = R('logs', id);
  assert.is(none.status, 1);
  assert.match(none.stderr, /CT_NO_LOG: container \S+ has no log/);
  assert.is(R('delete', '--force', id).status, 0);
  const missing = R('logs', 'no-such-container');
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /container does not exist/);
  assert.is(R('logs').status, 2, 'no id: a usage error');
  assert.equal(mine(), before);
});

// A containerd shim: a child subreaper that starts ctc with no stdio of its own, then reaps
// every child it gets (the init, and the log's writer) until none is left.
const SHIM = `import ctypes, os, subprocess, sys, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
r = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if r.returncode:
    sys.exit(100 + r.returncode)
end = time.time() + 20
while True:
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        sys.exit(0)
    if pid == 0:
        if time.time() > end:
            sys.exit(99)
        time.sleep(0.05)
`;

test('under a subreaper caller (a shim) the init is handed over and a writer of its own keeps the log (CLI, then the launcher)', () => {
  const id = `logs-shim-${process.pid}`;
  const dir = bundle(id, 'echo one; sleep 0.5; echo two >&2');
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  for (const [via, env] of [
    ['the TypeScript CLI', { CTC_NATIVE: '0' }],
    ['the native launcher', NO_NODE],
  ] as const) {
    const r = spawnSync(python, ['-c', SHIM, join(repoRoot, 'dist', 'ctc'), '--root', root, 'run', '-d', '--bundle', dir, id], {
      encoding: 'utf8',
      env: { ...process.env, CTC_NODE: process.execPath, ...env },
      timeout: 40_000,
    });
    assert.is(r.status, 0, `${via}: the shim reaped everything: ${r.stderr}`);
    const state = JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8'));
    assert.is(state.monitorPid, undefined, `${via}: the monitor did not stay`);
    const logs = R('logs', id);
    assert.is(logs.stdout, 'one\n', via);
    assert.is(logs.stderr, 'two\n', `${via}: written after the monitor was gone`);
    assert.is(R('delete', id).status, 0);
  }
  assert.equal(mine(), before);
});

test('a process of another user can reopen its stdout and stderr (/proc/self/fd/1, as /dev/stdout is): the pipes are its own', async () => {
  const id = `logs-user-${process.pid}`;
  const dir = bundle(id, 'echo reopened > /proc/self/fd/1; echo reopened-err > /proc/self/fd/2; id -u');
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  config.process.user = { uid: 65534, gid: 65534 };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  assert.is(runD(dir, id, { CTC_NATIVE: '0' }).status, 0);
  await until(() => stopped(id), `${id} to stop`);
  const logs = R('logs', id);
  assert.is(logs.stdout, 'reopened\n65534\n');
  assert.is(logs.stderr, 'reopened-err\n');
  assert.is(R('delete', id).status, 0);
  assert.equal(mine(), before);
});

test.run();
