// The first run of a bundle ctc has not seen (containerd hands every
// container a new config.json) without Node, through `ctc compile-server`
// (cli/compile-server.ts, native/launcher/compile-client.c): the launcher
// sends the config's bytes, gets a plan, checks it names those bytes, and
// applies it itself. Seen under strace. The server runs as nobody behind a
// root-only socket; with none, or a socket others could reach, or warnings
// and a --log, the CLI compiles as before.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxBundle } from '../busybox.ts';
import { ctc, hostResidue, root, tempDir, until } from '../helpers.ts';

const tmp = tempDir('ctc-compile-server-');
const state = join(tmp.dir, 'state');
const socket = join(tmp.dir, 'server', 'socket');
const launcher = join(root, 'dist', 'ctc');
let server: ChildProcess | undefined;

test.after(() => {
  server?.kill('SIGTERM');
  for (const id of ['cs-1', 'cs-2', 'cs-3', 'cs-4', 'cs-5']) ctc(['--root', state, 'delete', '--force', id]);
  tmp.remove();
});

let bundles = 0;
/** A bundle no one has run: its own dir, its own config bytes. */
function newBundle(id: string, extra: Record<string, unknown> = {}): string {
  const dir = busyboxBundle(join(tmp.dir, `b${bundles++}`), {
    id,
    args: ['/bin/sh', '-c', `echo ran ${id}; cat /proc/self/status | grep CapEff`],
  });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ ...config, annotations: { 'io.kubernetes.cri.container-type': 'container', note: `"${id}"` }, ...extra }),
  );
  return dir;
}

/** `ctc run --bundle DIR ID` under strace; its execs. */
function tracedRun(dir: string, id: string, env: Record<string, string> = {}, globals: string[] = []) {
  const log = join(tmp.dir, `${id}.strace`);
  const r = spawnSync(
    'strace',
    ['-f', '-qq', '-e', 'trace=execve', '-o', log, launcher, '--root', state, ...globals, 'run', '--bundle', dir, id],
    {
      encoding: 'utf8',
      input: '',
      env: { ...process.env, CTC_COMPILE_SOCKET: socket, CTC_CACHE_DIR: join(tmp.dir, 'cache'), ...env },
      timeout: 60_000,
    },
  );
  const execs = readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.includes('execve('));
  return { ...r, node: execs.some((l) => /execve\("[^"]*node"|ctc\.mjs/.test(l)) };
}

test('setup: the server starts as root, listens on a root-only socket, then runs as nobody', async () => {
  server = spawn(launcher, ['compile-server', '--socket', socket], { stdio: ['ignore', 'ignore', 'pipe'] });
  let said = '';
  server.stderr?.on('data', (d) => (said += d));
  await until(() => said.includes('listening'), 'the server to listen', 30_000);
  const sock = statSync(socket);
  assert.ok(sock.isSocket() && sock.uid === 0 && (sock.mode & 0o777) === 0o600, 'the socket is root-only');
  assert.is(statSync(join(tmp.dir, 'server')).mode & 0o777, 0o700);
  const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
  assert.match(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m, 'it runs as nobody');
  assert.match(status, /^CapEff:\s+0+$/m, 'with no capability');
});

test('a new bundle runs without Node: the plan is what ctc build makes of its config, annotations in its state', () => {
  const dir = newBundle('cs-1');
  const r = tracedRun(dir, 'cs-1');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ran cs-1\n/);
  assert.not.ok(r.node, 'no exec of node');
  // the same bundle again and another new one: still no Node, and nothing cached for them
  const again = tracedRun(newBundle('cs-2'), 'cs-2');
  assert.is(again.status, 0, again.stderr);
  assert.not.ok(again.node);
  // what the launcher ran is what the compiler makes of those bytes
  const d = newBundle('cs-3', {
    process: { ...JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).process, args: ['/bin/sleep', '30'] },
  });
  const create = spawnSync(launcher, ['--root', state, 'create', '--bundle', d, 'cs-3'], {
    stdio: 'ignore',
    env: { ...process.env, CTC_COMPILE_SOCKET: socket, CTC_NODE: '/nonexistent' },
    timeout: 60_000,
  });
  assert.is(create.status, 0, 'create ran in the launcher (a Node it would start does not exist)');
  const built = join(tmp.dir, 'cs-3.plan');
  assert.is(ctc(['build', join(d, 'config.json'), '-o', built]).status, 0);
  assert.is(readFileSync(join(state, 'cs-3', 'plan'), 'utf8'), readFileSync(built, 'utf8'));
  const st = JSON.parse(ctc(['--root', state, 'state', 'cs-3']).stdout);
  assert.equal(st.annotations, { 'io.kubernetes.cri.container-type': 'container', note: '"cs-3"' });
  assert.is(ctc(['--root', state, 'delete', '--force', 'cs-3']).status, 0);
});

test('a config with warnings: printed as the CLI prints them; with --log the CLI takes the run and logs them', () => {
  const warned = { process: { ...JSON.parse(readFileSync(join(newBundle('cs-x'), 'config.json'), 'utf8')).process } };
  warned.process.capabilities = { ...warned.process.capabilities, ambient: ['CAP_SYS_ADMIN'] };
  const r = tracedRun(newBundle('cs-4', warned), 'cs-4');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning CT_CAP_AMBIENT/);
  assert.not.ok(r.node);
  const log = join(tmp.dir, 'runc.log');
  const logged = tracedRun(newBundle('cs-5', warned), 'cs-5', {}, ['--log', log, '--log-format', 'json']);
  assert.is(logged.status, 0, logged.stderr);
  assert.ok(logged.node, 'the CLI ran it');
  assert.match(readFileSync(log, 'utf8'), /"level":"warning".*CT_CAP_AMBIENT/);
});

test('a socket others could reach is not used; nor a server that is gone', async () => {
  chmodSync(socket, 0o666);
  const open = tracedRun(newBundle('cs-1'), 'cs-1');
  assert.is(open.status, 0, open.stderr);
  assert.ok(open.node, 'the CLI compiled it');
  chmodSync(socket, 0o600);
  server?.kill('SIGTERM');
  await until(() => server?.exitCode !== null || server?.signalCode !== null, 'the server to stop');
  const gone = tracedRun(newBundle('cs-2'), 'cs-2');
  assert.is(gone.status, 0, gone.stderr);
  assert.ok(gone.node, 'the CLI compiled it');
  assert.not.ok(existsSync(join(state, 'cs-2')));
  assert.equal(
    hostResidue([state]).filter((x) => x.includes('cs-')),
    [],
  );
});

test.run();
