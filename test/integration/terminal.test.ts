// Terminals: a console socket gets the pty master (runc's --console-socket,
// what containerd uses for `ctr run -t`), for create and for exec; and
// `ctc run -t` in a terminal is interactive and follows window-size changes.
// test/tools/tty.py plays the other end: Node cannot receive file
// descriptors or own a pseudo-terminal.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxBundle } from '../busybox.ts';
import { cli, ctc, hostResidue, root as pkg, tempDir, until } from '../helpers.ts';

const tmp = tempDir();
const state = join(tmp.dir, 'state');
const tool = join(pkg, 'test', 'tools', 'tty.py');
const R = (...args: string[]) => ctc(['--root', state, ...args]);
// Debian's own python3 when there is one: version managers' shims add seconds under load.
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const before = hostResidue([state]);
test.after(() => {
  // a receiver left waiting by a failed test is ours to end
  for (const r of receivers) if (r.exitCode === null) r.kill();
  for (const id of ['tty1', 'tty2']) R('delete', '--force', id);
  tmp.remove();
});

const receivers: ChildProcess[] = [];

/** Starts the console-socket receiver; resolves once it listens, with its output when it is done. */
async function receiver(sock: string, input: string) {
  const child = spawn(python, [tool, 'receive', sock, input], { stdio: ['ignore', 'pipe', 'pipe'] });
  receivers.push(child);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const done = new Promise<string>((r) => child.on('close', () => r(out)));
  await until(() => out.startsWith('listening') && existsSync(sock), 'the receiver to listen', 30_000);
  return done;
}

test("create --console-socket: the container's process runs on the pty whose master went to the socket", async () => {
  const dir = busyboxBundle(join(tmp.dir, 'tty1'), { id: 'tty1', args: ['/bin/sh'], terminal: true });
  const sock = join(tmp.dir, 'console1.sock');
  const got = receiver(sock, 'echo ok-$((6*7)); tty; exit 0\n');
  const created = spawnSync(process.execPath, [cli, '--root', state, 'create', '--bundle', dir, '--console-socket', sock, 'tty1'], {
    stdio: 'ignore',
  });
  assert.is(created.status, 0);
  assert.is(R('start', 'tty1').status, 0);
  const out = await got;
  assert.match(out, /ok-42/);
  assert.match(out, /\/dev\/pts\/0/);
  await until(() => JSON.parse(R('state', 'tty1').stdout).status === 'stopped', 'the shell to exit');
  assert.is(R('delete', 'tty1').status, 0);
  assert.equal(hostResidue([state]), before);
});

test('a detached terminal without a console socket is refused, as runc does', () => {
  const dir = busyboxBundle(join(tmp.dir, 'tty1b'), { id: 'tty1b', args: ['/bin/sh'], terminal: true });
  const r = R('create', '--bundle', dir, 'tty1b');
  assert.is(r.status, 2);
  assert.match(r.stderr, /--console-socket/);
  assert.not.ok(existsSync(join(state, 'tty1b')));
});

test('exec --tty --console-socket into a running container', async () => {
  const dir = busyboxBundle(join(tmp.dir, 'tty2'), { id: 'tty2', args: ['/bin/sleep', '60'] });
  assert.is(spawnSync(process.execPath, [cli, '--root', state, 'run', '-d', '--bundle', dir, 'tty2'], { stdio: 'ignore' }).status, 0);
  const sock = join(tmp.dir, 'console2.sock');
  const got = receiver(sock, 'echo in-exec; test -t 0 && echo is-a-tty; exit 0\n');
  const e = spawnSync(process.execPath, [cli, '--root', state, 'exec', '--tty', '--detach', '--console-socket', sock, 'tty2', '/bin/sh'], {
    stdio: 'ignore',
  });
  assert.is(e.status, 0);
  const out = await got;
  assert.match(out, /in-exec/);
  assert.match(out, /is-a-tty/);
  assert.is(R('delete', '--force', 'tty2').status, 0);
  assert.equal(hostResidue([state]), before);
});

test('ctc run -t in a terminal is interactive and follows the window size', () => {
  const src = join(tmp.dir, 'tty.ct.ts');
  writeFileSync(
    src,
    `import { container, defaultMounts, hostRootfs } from 'ctc';\nexport default container({ rootfs: hostRootfs(), mounts: defaultMounts, process: { args: ['/bin/sh', '-c', 'read a; echo "size: $(stty size) $a"; read b; echo "size: $(stty size) $b"'] } });\n`,
  );
  assert.is(ctc(['build', src]).status, 0);
  const r = spawnSync(
    python,
    [tool, 'pty', '30x100', 'hello\n', '40x120', '--', process.execPath, cli, '--root', state, 'run', '-t', join(tmp.dir, 'tty.plan')],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /size: 30 100 hello/);
  assert.match(r.stdout, /size: 40 120 hello/);
  assert.equal(hostResidue([state]), before);
});

test.run();
