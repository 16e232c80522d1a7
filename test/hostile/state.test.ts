// Issue 18, points 3, 5, 6 (the squatted root) and 9: the state root, the
// image cache and the files a caller names, attacked by a local user.
//   - an image's setuid-root binary, run by `nobody` from the cache, gave
//     euid 0; a `b 254:0 0666` layer entry became a world-writable block
//     device on the host;
//   - a symlink planted at `ctr.pid.tmp` made root overwrite a 0600 file
//     (--pid-file, through the launcher and through Node), and `--log` was
//     appended through a symlink;
//   - another user's /tmp/ctc-<uid> was taken as an ordinary user's state
//     root, and its journal's hook ran as that user;
//   - a container's plan (its env: passwords) was readable by anyone.
// Each as it was tried; each asserts the marker or the victim is untouched
// and that the error is coded. Needs root (and cc, for the setuid program).

import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxBundle } from '../busybox.ts';
import { busyboxLayers, tarFile, writeImage } from '../busybox-image.ts';
import { cli, ctc, hostResidue, root as pkgRoot, tempDir, type Ran } from '../helpers.ts';

const tmp = tempDir('ctc-state-');
// others may pass through the test's own dir: only ctc's modes keep them out below it
chmodSync(tmp.dir, 0o711);
const state = join(tmp.dir, 'state');
/** what the host holds of this test's (other tests may run at the same time) */
const mine = () => hostResidue([state]).filter((x) => x.includes(state) || /\/st-(pid|plan|seed)\b/.test(x));
const launcher = join(pkgRoot, 'dist', 'ctc');
/** uids with no passwd entry: the victim, and another local user */
const VICTIM = 54321;
const OTHER = 54322;
const squatted = `/tmp/ctc-${VICTIM}`;
const ids = ['st-pid', 'st-plan', 'st-seed'];
test.after(() => {
  for (const id of ids) ctc(['--root', state, 'delete', '--force', id]);
  rmSync(squatted, { recursive: true, force: true });
  tmp.remove();
});

function run(cmd: string, args: string[], env: Record<string, string | undefined> = {}): Ran {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: pkgRoot, env: { ...process.env, ...env }, input: '', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A create whose output goes to a file: the container's monitor keeps its stdio, so a pipe would stay open. */
function created(cmd: string, args: string[], env: Record<string, string | undefined> = {}): Ran {
  const out = join(tmp.dir, 'create.out');
  const fd = openSync(out, 'w');
  try {
    const r = spawnSync(cmd, args, { cwd: pkgRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', fd], timeout: 60_000 });
    return { status: r.status, stdout: '', stderr: readFileSync(out, 'utf8') };
  } finally {
    closeSync(fd);
  }
}
const ctcCreate = (args: string[]) => created(process.execPath, [cli, ...args]);

/** argv run as uid:gid with no supplementary groups (setpriv, util-linux). */
const as = (uid: number, argv: string[]) => ['--reuid', String(uid), '--regid', String(uid), '--clear-groups', ...argv];
const nobody = (argv: string[], env: Record<string, string | undefined> = {}) => run('setpriv', as(65534, argv), env);

/** A program that writes its argument only if it runs with euid 0: what a setuid-root binary gives. */
function setuidProgram(): Buffer {
  const src = join(tmp.dir, 'suid.c');
  writeFileSync(
    src,
    '#include <fcntl.h>\n#include <unistd.h>\nint main(int c, char **v) { return c == 2 && geteuid() == 0 && open(v[1], O_CREAT | O_WRONLY, 0644) >= 0 ? 0 : 1; }\n',
  );
  execFileSync('cc', ['-o', join(tmp.dir, 'suid'), src]);
  return readFileSync(join(tmp.dir, 'suid'));
}

test("an image's setuid-root binary is out of reach of other users; its device entry is not made", () => {
  const dir = join(tmp.dir, 'img');
  mkdirSync(dir);
  const extra = tarFile([
    { name: 'opt/', type: 'dir' },
    { name: 'opt/suid', data: setuidProgram(), mode: 0o4755, uid: 0, gid: 0 },
    { name: 'dev/', type: 'dir' },
    { name: 'dev/blk', type: 'block', major: 254, minor: 0, mode: 0o666 },
  ]);
  const digest = writeImage(join(dir, 'img.tar'), { layers: [...busyboxLayers(), extra] });
  writeFileSync(
    join(dir, 'app.ct.ts'),
    `import { container, defaultMounts, imageRootfs } from 'ctc';\nexport default container({ rootfs: imageRootfs('img.tar'), mounts: defaultMounts, process: { args: ['/bin/true'], env: ['PATH=/bin'] } });\n`,
  );
  const built = ctc(['build', join(dir, 'app.ct.ts')]);
  assert.is(built.status, 0, built.stderr);
  const r = run(launcher, ['--root', state, 'run', join(dir, 'app.plan')]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: .*img\.tar: 1 device node \(dev\/blk\) not made/, 'the skipped device is named, once');

  const rootfs = join(state, '@images', digest.slice(7), 'rootfs');
  assert.is(lstatSync(join(rootfs, 'opt', 'suid')).mode & 0o7777, 0o4755, 'the setuid bit stays, for the containers');
  assert.not.ok(existsSync(join(rootfs, 'dev', 'blk')), 'no device node in the cache');
  assert.is(statSync(join(state, '@images')).mode & 0o777, 0o700, "the cache is root's alone");

  const markers = join(tmp.dir, 'markers');
  mkdirSync(markers, { mode: 0o755 }); // only euid 0 writes here
  const marker = join(markers, 'suid-ran');
  // through a shell: setpriv's own execve still has root's capabilities for the path lookup
  const tried = nobody(['/bin/sh', '-c', 'exec "$0" "$1"', join(rootfs, 'opt', 'suid'), marker]);
  assert.is(tried.status, 126, `nobody cannot exec it: ${tried.stderr}`);
  assert.match(tried.stderr, /Permission denied/);
  assert.not.ok(existsSync(marker), 'the setuid program never ran: no marker');
  assert.equal(
    mine().filter((x) => !x.includes('@images')),
    [],
  );
});

/** A bundle whose container sleeps. */
const bundle = (id: string) => busyboxBundle(join(tmp.dir, id), { id, args: ['/bin/sleep', '60'] });

test('--pid-file: a symlink planted at <file>.tmp is never written through (launcher and Node)', () => {
  const seed = bundle('st-seed');
  // a first create through Node caches the run image, so the launcher applies the next one itself
  assert.is(ctcCreate(['--root', state, 'create', '--bundle', seed, 'st-seed']).status, 0);
  assert.is(ctc(['--root', state, 'delete', '--force', 'st-seed']).status, 0);
  const victim = join(tmp.dir, 'victim');
  writeFileSync(victim, 'secret\n', { mode: 0o600 });
  const pidDir = join(tmp.dir, 'pids');
  mkdirSync(pidDir);
  const pidFile = join(pidDir, 'ctr.pid');
  symlinkSync(victim, `${pidFile}.tmp`);
  const record = join(tmp.dir, 'native-failed');
  const wrapper = join(tmp.dir, 'node-wrapper');
  writeFileSync(wrapper, `#!/bin/sh\necho "$CTC_NATIVE_FAILED" > ${record}\nexec ${process.execPath} "$@"\n`, { mode: 0o755 });
  const ways: [string, () => Ran][] = [
    [
      'the native launcher',
      () => created(launcher, ['--root', state, 'create', '--bundle', seed, '--pid-file', pidFile, 'st-pid'], { CTC_NODE: wrapper }),
    ],
    [
      'Node (CTC_NATIVE=0)',
      () => created(launcher, ['--root', state, 'create', '--bundle', seed, '--pid-file', pidFile, 'st-pid'], { CTC_NATIVE: '0' }),
    ],
  ];
  for (const [what, create] of ways) {
    const r = create();
    assert.is(r.status, 1, `${what}: ${r.stderr}`);
    assert.match(r.stderr, /error CT_WRITE: .*ctr\.pid\.tmp.*\[EEXIST\]/, what);
    assert.is(readFileSync(victim, 'utf8'), 'secret\n', `${what}: the victim is unchanged`);
    assert.is(statSync(victim).mode & 0o777, 0o600);
    assert.ok(lstatSync(`${pidFile}.tmp`).isSymbolicLink(), `${what}: the planted link is left as it was`);
    assert.not.ok(existsSync(pidFile), `${what}: no pid file`);
    assert.not.ok(existsSync(join(state, 'st-pid')), `${what}: the create was undone`);
  }
  assert.match(readFileSync(record, 'utf8'), /^\d+:pid-file:17\n$/, 'the launcher applied the create and failed there itself (EEXIST)');
  // without the planted link, the same create writes the pid file (mode 0644, as runc's)
  rmSync(`${pidFile}.tmp`);
  assert.is(ctcCreate(['--root', state, 'create', '--bundle', seed, '--pid-file', pidFile, 'st-pid']).status, 0);
  assert.match(readFileSync(pidFile, 'utf8'), /^\d+$/);
  assert.is(ctc(['--root', state, 'delete', '--force', 'st-pid']).status, 0);
  assert.equal(
    mine().filter((x) => !x.includes('@images')),
    [],
  );
});

test('--log: a symlink at the log file is not appended through', () => {
  const victim = join(tmp.dir, 'log-victim');
  writeFileSync(victim, 'secret\n', { mode: 0o600 });
  const log = join(tmp.dir, 'ctc.log');
  symlinkSync(victim, log);
  const r = ctc(['--log', log, '--root', state, 'state', 'no-such-container']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /error CT_NOT_FOUND/);
  assert.is(readFileSync(victim, 'utf8'), 'secret\n', 'the victim is unchanged');
  rmSync(log);
  ctc(['--log', log, '--root', state, 'state', 'no-such-container']);
  assert.match(readFileSync(log, 'utf8'), /CT_NOT_FOUND/, 'a real log file is appended to');
  assert.is(statSync(log).mode & 0o777, 0o600);
});

test("a container's plan, state and journal cannot be read by another user", () => {
  const dir = busyboxBundle(join(tmp.dir, 'st-plan'), { id: 'st-plan', args: ['/bin/sleep', '60'] });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  config.process.env.push('DB_PASSWORD=hunter2');
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  assert.is(ctcCreate(['--root', state, 'create', '--bundle', dir, 'st-plan']).status, 0);
  const sd = join(state, 'st-plan');
  assert.match(readFileSync(join(sd, 'plan'), 'utf8'), /DB_PASSWORD=hunter2/);
  for (const name of readdirSync(sd)) {
    const st = lstatSync(join(sd, name));
    if (st.isFile()) assert.is(st.mode & 0o077, 0, `${name} is its owner's alone (${(st.mode & 0o777).toString(8)})`);
  }
  for (const name of ['plan', 'state.json', 'journal']) {
    const r = nobody(['/bin/cat', join(sd, name)]);
    assert.is(r.status, 1, `${name}: ${r.stdout}`);
    assert.match(r.stderr, /Permission denied/, name);
    assert.not.match(r.stdout, /hunter2/);
  }
  assert.is(ctc(['--root', state, 'delete', '--force', 'st-plan']).status, 0);
});

test("an ordinary user's state root squatted by another user is refused, and its journal never acts", () => {
  // the victim may write the marker's dir: only the squatter's hook would
  const markers = join(tmp.dir, 'victim-markers');
  mkdirSync(markers, { mode: 0o700 });
  chownSync(markers, VICTIM, VICTIM);
  const marker = join(markers, 'hook-ran');
  // OTHER makes /tmp/ctc-<VICTIM> first, with a container whose journal runs a hook
  rmSync(squatted, { recursive: true, force: true });
  const evil = join(squatted, 'evil');
  mkdirSync(evil, { recursive: true, mode: 0o755 });
  const hook = { when: 'poststop', path: '/bin/sh', args: ['sh', '-c', `touch ${marker}`], env: [], timeout: 0 };
  writeFileSync(join(evil, 'journal'), JSON.stringify({ undo: 'hook.poststop', step: 1, dir: evil, hook }) + '\n');
  writeFileSync(
    join(evil, 'state.json'),
    JSON.stringify({
      ociVersion: '1.2.0',
      id: 'evil',
      phase: 'running',
      pid: 0,
      initStartTime: 0,
      bundle: '',
      rootfs: '',
      created: '',
      owner: '',
      annotations: {},
      cgroupPath: '',
      namespaces: [],
    }),
  );
  writeFileSync(join(evil, 'plan'), 'ctc-plan 1\n');
  execFileSync('chown', ['-R', `${OTHER}:${OTHER}`, squatted]);
  chmodSync(squatted, 0o755);
  const env = { XDG_RUNTIME_DIR: undefined };
  const ways: [string, Ran][] = [
    ['dist/ctc', run('setpriv', as(VICTIM, [launcher, 'delete', '--force', 'evil']), env)],
    ['node dist/ctc.mjs', run('setpriv', as(VICTIM, [process.execPath, cli, 'delete', '--force', 'evil']), env)],
    ['list', run('setpriv', as(VICTIM, [process.execPath, cli, 'list']), env)],
  ];
  for (const [what, r] of ways) {
    assert.is(r.status, 1, `${what}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`error CT_STATE_UNSAFE: .*${squatted}`), what);
    assert.not.ok(existsSync(marker), `${what}: the squatter's hook never ran`);
  }
  assert.ok(existsSync(join(evil, 'journal')), 'nothing of it was touched either');
  // root, too, refuses a --root that another user owns
  const r = run(launcher, ['--root', squatted, 'delete', '--force', 'evil']);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /error CT_STATE_UNSAFE/);
  assert.not.ok(existsSync(marker));
  // the victim's own: made 0700 when missing, and used
  rmSync(squatted, { recursive: true, force: true });
  const own = run('setpriv', as(VICTIM, [process.execPath, cli, 'list']), env);
  assert.is(own.status, 0, own.stderr);
  const st = lstatSync(squatted);
  assert.ok(
    st.isDirectory() && st.uid === VICTIM && (st.mode & 0o777) === 0o700,
    `the victim's own root: ${(st.mode & 0o777).toString(8)}`,
  );
});

test.run();
