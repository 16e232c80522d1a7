// Day two with detached containers, as docker and podman users expect it
// (issue 22): run -d prints the id it made; ctc stop sends the stop signal,
// then SIGKILL once the grace period passed; list shows exit codes; exec of
// a missing command exits 127. sleep as pid 1 ignores TERM (no
// handler: the kernel drops it for a namespace's init), so only the SIGKILL
// ends it; a shell that traps TERM ends on its own, before the timeout.
// Needs root.

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxBundle } from '../busybox.ts';
import { cli, ctc, hostResidue, root as repoRoot, tempDir, until } from '../helpers.ts';

const tmp = tempDir('ctc-stop-');
const root = join(tmp.dir, 'state');
const ids = ['ignores', 'traps', 'exec'].map((n) => `stop-${n}-${process.pid}`);
/** What this file's containers left (other tests may run meanwhile). */
const mine = () => hostResidue([root]).filter((l) => l.includes(root) || ids.some((id) => l.includes(id)));
const before = mine();
const R = (...args: string[]) => ctc(['--root', root, ...args]);
test.after(() => {
  for (const id of ids) R('delete', '--force', id);
  tmp.remove();
});

function detached(id: string, args: string[]): void {
  const dir = busyboxBundle(join(tmp.dir, id), { id, args });
  const r = spawnSync(process.execPath, [cli, '--root', root, 'run', '-d', '--bundle', dir, id], { stdio: 'ignore', timeout: 30_000 });
  assert.is(r.status, 0, `run -d ${id}`);
}
const status = (id: string) => JSON.parse(R('state', id).stdout).status;

test('stop -t 1 ends a pid 1 that ignores TERM within 2 s (SIGKILL after the grace period); stopping it again is success', () => {
  const [id] = ids;
  detached(id, ['sleep', '300']);
  const t0 = Date.now();
  const r = R('stop', '-t', '1', id);
  const took = Date.now() - t0;
  assert.is(r.status, 0, r.stderr);
  assert.ok(took >= 1000 && took < 2000, `stop took ${took} ms`);
  assert.is(status(id), 'stopped');
  assert.is(R('stop', id).status, 0, 'a stopped container is left as it is');
  assert.is(R('delete', id).status, 0);
});

test('stop: a process that handles TERM ends on its own, long before the timeout; -s names another signal', async () => {
  const [, id] = ids;
  detached(id, ['sh', '-c', 'trap "exit 7" USR1; trap "exit 9" TERM; while :; do sleep 0.1; done']);
  await until(() => status(id) === 'running', `${id} to run`);
  const t0 = Date.now();
  const r = R('stop', '-t', '20', '-s', 'USR1', id);
  assert.is(r.status, 0, r.stderr);
  assert.ok(Date.now() - t0 < 5000, 'USR1 ended it, not the 20 s timeout');
  const line =
    R('list')
      .stdout.split('\n')
      .find((l) => l.startsWith(`${id} `)) ?? '';
  assert.match(line, /\sstopped \(7\)\s/, `list shows the exit code: ${line}`);
  assert.match(line, /\sroot$/, 'and the owner of its state, by name');
  assert.is(R('delete', id).status, 0);
  assert.equal(mine(), before);
});

test("exec of a missing command exits 127, of one that cannot run 126, naming the command and the container, in runc's words", () => {
  const id = ids[2];
  detached(id, ['sleep', '300']);
  const missing = R('exec', id, 'nosuchcmd');
  assert.is(missing.status, 127, missing.stderr);
  assert.match(
    missing.stderr,
    /^exec failed: exec: "nosuchcmd": executable file not found in \$PATH: ctc: error CT_EXEC_COMMAND: cannot run nosuchcmd in container \S+: no entry of its PATH holds it/,
  );
  assert.not.match(missing.stderr, /\.ct\.ts:|config\.json:/, "not the container's source line");
  const file = R('exec', id, '/etc/passwd');
  assert.is(file.status, 126, file.stderr);
  assert.match(file.stderr, /cannot run \/etc\/passwd in container \S+: it is not executable there/);
  assert.is(R('delete', '--force', id).status, 0);
  assert.equal(mine(), before);
});

test('run -d of a plan without --id prints the id it made, through the CLI and (the second time) the launcher', () => {
  const src = join(tmp.dir, 'svc.ct.ts');
  writeFileSync(
    src,
    "import { container, defaultMounts, hostRootfs } from 'ctc';\nexport default container({ rootfs: hostRootfs(), mounts: defaultMounts, process: { args: ['sleep', '300'] } });\n",
  );
  assert.is(ctc(['build', src]).status, 0);
  for (const via of ['the CLI', 'the launcher']) {
    const r = spawnSync(join(repoRoot, 'dist', 'ctc'), ['--root', root, 'run', '-d', join(tmp.dir, 'svc.plan')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
    });
    assert.is(r.status, 0, r.stderr);
    const id = r.stdout.trim();
    assert.match(id, /^svc-[0-9a-f]{8}$/, `${via} printed the id`);
    ids.push(id);
    assert.is(JSON.parse(R('state', id).stdout).status, 'running', via);
    assert.is(R('delete', '--force', id).status, 0);
  }
  assert.equal(mine(), before);
});

test("stop of a missing container: runc's words, exit 1", () => {
  const r = R('stop', 'no-such-container');
  assert.is(r.status, 1);
  assert.match(r.stderr, /container does not exist/);
});

test.run();
