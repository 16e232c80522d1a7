// The runc CVEs, performed against ctc for real: each test builds a
// container that attacks (or an image that is the attack), runs it, and
// checks from the host and from inside that it got nowhere. The attacks are
// non-destructive: they aim at paths this test owns, or detect the escape
// (an fd to the host's binary, a procfs file exposed) without using it.
//
// Each test's comment says how to turn its protection off in
// native/init/ (then `node scripts/build.mjs`) to watch it fail; that
// was done once for each, and the failure it gave is quoted.

import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  rmdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxRootfs } from '../busybox.ts';
import { cli, ctc, ctcAsync, hostResidue, root as pkg, tempDir, until } from '../helpers.ts';

const tmp = tempDir();
const state = join(tmp.dir, 'state');
const R = (...args: string[]) => ctc(['--root', state, ...args]);
const before = hostResidue([state]);
// Host paths the attacks aim at: they must never exist, but if a test fails they are ours to remove.
const unique = (tag: string) => join('/tmp', `ctc-cve-${process.pid}-${Math.random().toString(36).slice(2, 8)}-${tag}`);
const aimedAt: string[] = [];
const ids = ['cve-exe', 'cve-fds', 'cve-console'];
test.after(() => {
  for (const id of ids) R('delete', '--force', id);
  for (const p of aimedAt) rmSync(p, { recursive: true, force: true });
  tmp.remove();
});

const IMPORTS = `import { container, defaultMounts, hostRootfs, dirRootfs, capabilities, defaultCapabilities } from 'ctc';\n`;

/** Writes NAME.ct.ts exporting `def` (a container(...) expression), builds it; the plan's path. */
function build(name: string, def: string): string {
  const src = join(tmp.dir, `${name}.ct.ts`);
  writeFileSync(src, `${IMPORTS}export default ${def};\n`);
  const b = ctc(['build', src]);
  assert.is(b.status, 0, b.stderr);
  return join(tmp.dir, `${name}.plan`);
}

/** A busybox image of this test's own, in a fresh directory. */
const image = (name: string) => busyboxRootfs(join(tmp.dir, name));
const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

/** `ctc run -d` (ctc's own output to a file); returns what the container has written so far, from its log. */
function runDetached(id: string, plan: string): () => string {
  const out = join(tmp.dir, `${id}.out`);
  const fd = openSync(out, 'w');
  try {
    const r = spawnSync(process.execPath, [cli, '--root', state, 'run', '-d', '--id', id, plan], {
      stdio: ['ignore', fd, fd],
      timeout: 60_000,
    });
    assert.is(r.status, 0, read(out));
  } finally {
    closeSync(fd);
  }
  // the log's records (docs/containers.md) put back together: a P record is a part of a line
  const record = /^\S+ std(?:out|err) ([FP]) (.*)$/;
  return () =>
    read(join(state, id, 'ctr.log'))
      .split('\n')
      .map((l) => record.exec(l))
      .map((m) => (m ? m[2] + (m[1] === 'F' ? '\n' : '') : ''))
      .join('');
}

// ---- CVE-2019-5736: the container overwrites the runtime's binary ----------

// The watcher (test/tools/exe-watch.py) runs as the container's process and
// takes an O_PATH fd of /proc/<pid>/exe of every ctc-init it can see: the
// init of each `ctc exec` before its execve (it has CAP_SYS_PTRACE, a common
// grant, so the kernel lets it look at that more privileged process), and
// the one the real exploit makes: /tmp/evil is "#!/proc/self/exe", so
// execing it makes the kernel run ctc-init's own binary again inside the
// container, with the container's privileges. Once they have exec'd or
// exited, it checks whether any fd is the host's dist/ctc-init (st_dev and
// st_ino, from the host) and tries to write through each memfd.
//
// Protection off: in main(), replace `int r = seal_self(argv);` by
// `int r = 0; (void)seal_self;`. Tried: fails at "every grab is a sealed
// memfd, never the host's binary": host=true, link=".../dist/ctc-init" for
// every grab, the #!/proc/self/exe one included (reopen=ETXTBSY only while
// the container's monitor still runs that file; the watcher never writes
// to it).
test('CVE-2019-5736: /proc/<pid>/exe of any ctc-init is a sealed memfd, never the host binary', async () => {
  const exe = statSync(join(pkg, 'dist', 'ctc-init'));
  const watcher = readFileSync(join(pkg, 'test', 'tools', 'exe-watch.py'), 'utf8');
  const plan = build(
    'exe',
    `container({ rootfs: hostRootfs({ files: { '/watch.py': ${JSON.stringify(watcher)} } }), mounts: defaultMounts,\n` +
      `  process: { args: ['/usr/bin/python3', '/watch.py', '${exe.dev}', '${exe.ino}'], capabilities: capabilities.add(defaultCapabilities, 'CAP_SYS_PTRACE') } })`,
  );
  const output = runDetached('cve-exe', plan);
  try {
    await until(() => output().includes('ready'), 'the watcher to start', 30_000);
    // The host's view (checked at the end): the monitor runs from a memfd too.
    const { monitorPid } = JSON.parse(readFileSync(join(state, 'cve-exe', 'state.json'), 'utf8'));
    const monitorExe = monitorPid > 0 ? readlinkSync(`/proc/${monitorPid}/exe`) : 'no monitor';
    for (let i = 0; i < 5; i++) assert.is(R('exec', 'cve-exe', '/bin/true').status, 0);
    // ctc-init as /tmp/evil's interpreter waits on stdin (device-filter mode) until this ends it.
    const evil = ctcAsync(['--root', state, 'exec', 'cve-exe', '/tmp/evil']);
    await until(() => /^evil \d+$/m.test(output()), 'the watcher to hold the #!/proc/self/exe process', 30_000);
    evil.child.stdin.end();
    await evil.done;
    assert.is(R('exec', 'cve-exe', 'touch', '/tmp/done').status, 0);
    await until(() => output().includes('report '), "the watcher's report", 30_000);

    const { grabs } = JSON.parse(/^report (.*)$/m.exec(output())![1]) as {
      grabs: { pid: string; cmdline: string; execd: boolean; link: string; host: boolean; reopen: string; write: string }[];
    };
    assert.ok(
      grabs.some((g) => g.cmdline.includes('device-filter /tmp/evil')),
      'the watcher held the #!/proc/self/exe process',
    );
    assert.ok(
      grabs.some((g) => g.execd && !g.cmdline.includes('evil')),
      "the watcher held an exec's init before its execve",
    );
    for (const g of grabs) {
      assert.equal(
        { host: g.host, link: g.link },
        { host: false, link: '/memfd:ctc-init (deleted)' },
        "every grab is a sealed memfd, never the host's binary",
      );
      if (g.reopen === 'ok') assert.is(g.write, 'EPERM', 'the memfd is sealed against writes');
      else assert.is(g.reopen, 'ETXTBSY', 'a memfd still running is not even opened for writing');
    }
    assert.ok(
      grabs.some((g) => g.write === 'EPERM'),
      'a write was tried, and refused',
    );

    assert.is(monitorExe, '/memfd:ctc-init (deleted)', "the monitor's exe");
  } finally {
    assert.is(R('delete', '--force', 'cve-exe').status, 0);
  }
  assert.equal(hostResidue([state]), before);
});

// ---- CVE-2024-21626: leaked fds, a cwd outside the root --------------------

/**
 * `ctc ...args` holding extra fds, as a careless caller would: 3 a pipe, 4
 * and 99 a directory of the host. Node marks its own inherited low fds
 * close-on-exec (libuv's uv_disable_stdio_inheritance, up to about fd 16), so
 * only the high one reaches ctc-init: that is the leak runc had.
 */
function withFds(hostDir: string, args: string[]): SpawnSyncReturns<string> {
  const dir = openSync(hostDir, 'r');
  try {
    const stdio = ['pipe', 'pipe', 'pipe', 'pipe', dir, ...Array(94).fill('ignore'), dir] as const;
    return spawnSync(process.execPath, [cli, '--root', state, ...args], { stdio: [...stdio], encoding: 'utf8', timeout: 60_000 });
  } finally {
    closeSync(dir);
  }
}

// Protection off: in main(), `if ((r = cloexec_from(CTL_FD + 1)) < 0) {` →
// `if ((r = 0) < 0) { (void)cloexec_from;`. Tried: the listing is
// 0 1 2 251 3 99 (251: an fd the shell running the suite leaked) followed by
// host-marker, the host directory's content, read through
// `cd /proc/self/fd/99`.
test('CVE-2024-21626: fds the caller leaks to ctc run and ctc exec do not reach the container', () => {
  const hostDir = join(tmp.dir, 'host-dir');
  mkdirSync(hostDir);
  writeFileSync(join(hostDir, 'host-marker'), '');
  const plan = build(
    'fds',
    `container({ rootfs: hostRootfs(), mounts: defaultMounts, process: { args: ['/bin/sh', '-c', 'ls /proc/self/fd; cd /proc/self/fd/99 && ls; exit 0'] } })`,
  );
  const r = withFds(hostDir, ['run', '--id', 'cve-fds', plan]);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['0', '1', '2', '3'], 'stdio, and the fd ls reads /proc/self/fd through');
  assert.not.match(r.stdout, /host-marker/);
  assert.match(r.stderr, /can't cd to \/proc\/self\/fd\/99|No such file/);

  const sleeper = build('fds-sleep', `container({ rootfs: hostRootfs(), mounts: defaultMounts, process: { args: ['/bin/sleep', '60'] } })`);
  spawnSync(process.execPath, [cli, '--root', state, 'run', '-d', '--id', 'cve-fds', sleeper], { stdio: 'ignore', timeout: 60_000 });
  try {
    const e = withFds(hostDir, ['exec', 'cve-fds', '/bin/sh', '-c', 'ls /proc/self/fd; cd /proc/self/fd/99 && ls; exit 0']);
    assert.is(e.status, 0, e.stderr);
    assert.equal(e.stdout.trim().split('\n'), ['0', '1', '2', '3']);
    assert.not.match(e.stdout, /host-marker/);
  } finally {
    assert.is(R('delete', '--force', 'cve-fds').status, 0);
  }
  assert.equal(hostResidue([state]), before);
});

// Two defences: ctc-init closes every fd above 3 when it starts, so the
// leaked fd 99 is gone and chdir to /proc/self/fd/99 fails (ENOENT); and
// were one still open, CTC_OP_CHDIR refuses a cwd the root cannot reach
// (EXDEV). Protection off: close_from() → return 0 in main (the fd then
// stays open until the execve) gives EXDEV; with op_chdir's
// `return cwd_in_root();` → `return 0;` as well, the container runs (status
// 0) in the host directory: `ls` prints host-marker.
test('CVE-2024-21626: a cwd through a leaked fd is refused at proc.cwd, for run and for exec', () => {
  const hostDir = join(tmp.dir, 'host-cwd');
  mkdirSync(hostDir);
  writeFileSync(join(hostDir, 'host-marker'), '');
  const plan = build(
    'cwd',
    `container({ rootfs: hostRootfs(), mounts: defaultMounts, process: { cwd: '/proc/self/fd/99', args: ['/bin/sh', '-c', 'ls; exit 0'] } })`,
  );
  const r = withFds(hostDir, ['run', '--id', 'cve-cwd', plan]);
  assert.is(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /error CT_STEP_FAILED: step \d+ proc\.cwd \(\/proc\/self\/fd\/99\): .*\[(ENOENT|EXDEV)\]/);
  assert.not.match(r.stdout, /host-marker/);
  assert.not.ok(existsSync(join(state, 'cve-cwd')), 'rolled back');

  const sleeper = build('cwd-sleep', `container({ rootfs: hostRootfs(), mounts: defaultMounts, process: { args: ['/bin/sleep', '60'] } })`);
  spawnSync(process.execPath, [cli, '--root', state, 'run', '-d', '--id', 'cve-fds', sleeper], { stdio: 'ignore', timeout: 60_000 });
  try {
    const e = withFds(hostDir, ['exec', '--cwd', '/proc/self/fd/99', 'cve-fds', '/bin/ls']);
    assert.is(e.status, 1, e.stdout + e.stderr);
    assert.match(e.stderr, /step \d+ proc\.cwd.*\[(ENOENT|EXDEV)\]/);
    assert.not.match(e.stdout, /host-marker/);
  } finally {
    assert.is(R('delete', '--force', 'cve-fds').status, 0);
  }
  assert.equal(hostResidue([state]), before);
});

// ---- CVE-2021-30465: mount targets through symlinks in the image ------------

// Every in-root path is resolved with openat2(RESOLVE_IN_ROOT); mkdir_p
// follows a dangling link beneath the root and creates what it names there.
// Protection off (all three tests): in in_root(), `.resolve =
// RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS` → `.resolve = RESOLVE_NO_MAGICLINKS`.
// Tried: (a) fails at "nothing was made in the host directory the link
// names": host-side/sub was created on the host; (b) the run fails (/dev,
// its tmpfs and nodes went onto the host directory, in the container's mount
// namespace, so there is no /dev/null inside to mask with); (c) fails at
// "/tmp/ctc-cve-...-c was created on the host". (A dangling absolute link,
// like (a)'s data, still lands inside that way: mkdir_p re-roots link
// targets itself; the host directory that exists is what shows the hole.)

/** Inside: the filesystem type at each path (the image is on the host's disk, so a tmpfs there is the mount), and /dev/null. */
const probeMounts = (paths: string[]) => [
  '/bin/sh',
  '-c',
  `stat -f -c '%n %T' ${paths.join(' ')}; stat -c '%F %t:%T' /dev/null 2>&1; exit 0`,
];

test('CVE-2021-30465 (a): an absolute symlink in the image; the mkdir and the mount land inside the root', () => {
  const rootfs = image('sym-a');
  const missing = unique('a'); // must never be created
  const hostSide = join(tmp.dir, 'host-side'); // exists, and must stay empty
  mkdirSync(hostSide);
  aimedAt.push(missing);
  symlinkSync(missing, join(rootfs, 'data'));
  symlinkSync(hostSide, join(rootfs, 'srv'));
  const tmpfs = (dst: string) => `{ destination: '${dst}', type: 'tmpfs', source: 'tmpfs' }`;
  const plan = build(
    'sym-a',
    `container({ rootfs: dirRootfs(${JSON.stringify(rootfs)}), mounts: [defaultMounts[0], ${tmpfs('/data/sub')}, ${tmpfs('/srv/sub')}], maskedPaths: [], process: { args: ${JSON.stringify(probeMounts(['/data/sub', '/srv/sub']))} } })`,
  );
  const r = R('run', '--id', 'cve-sym-a', plan);
  assert.not.ok(existsSync(missing), `${missing} was created on the host`);
  assert.equal(readdirSync(hostSide), [], 'nothing was made in the host directory the link names');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\/data\/sub tmpfs$/m);
  assert.match(r.stdout, /^\/srv\/sub tmpfs$/m);
  assert.ok(statSync(join(rootfs, missing, 'sub')).isDirectory(), 'the link was followed inside the root');
  assert.ok(statSync(join(rootfs, hostSide, 'sub')).isDirectory());
  rmSync(rootfs, { recursive: true });
  assert.equal(hostResidue([state]), before);
});

test('CVE-2021-30465 (b): /dev a symlink to a host directory; the /dev tmpfs and the device nodes stay inside', () => {
  const rootfs = image('sym-b');
  const hostDev = unique('b'); // the host directory the image's /dev names: it must stay empty
  aimedAt.push(hostDev);
  mkdirSync(hostDev);
  rmdirSync(join(rootfs, 'dev'));
  symlinkSync(hostDev, join(rootfs, 'dev'));
  const plan = build(
    'sym-b',
    `container({ rootfs: dirRootfs(${JSON.stringify(rootfs)}), mounts: defaultMounts, process: { args: ${JSON.stringify(probeMounts(['/dev', '/dev/pts']))} } })`,
  );
  const r = R('run', '--id', 'cve-sym-b', plan);
  assert.equal(readdirSync(hostDev), [], 'no device node (or anything) was made on the host');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\/dev tmpfs$/m);
  assert.match(r.stdout, /^\/dev\/pts devpts$/m);
  assert.match(r.stdout, /^character special file 1:3$/m, '/dev/null inside is the device');
  assert.ok(statSync(join(rootfs, hostDev)).isDirectory(), 'the link was followed inside the root');
  rmSync(hostDev, { recursive: true });
  rmSync(rootfs, { recursive: true });
  assert.equal(hostResidue([state]), before);
});

test('CVE-2021-30465 (c): a relative symlink climbing out with ../ stops at the root', () => {
  const rootfs = image('sym-c');
  const missing = unique('c');
  aimedAt.push(missing);
  symlinkSync(`${'../'.repeat(12)}${missing.slice(1)}`, join(rootfs, 'x'));
  const plan = build(
    'sym-c',
    `container({ rootfs: dirRootfs(${JSON.stringify(rootfs)}), mounts: [defaultMounts[0], { destination: '/x/sub', type: 'tmpfs', source: 'tmpfs' }], maskedPaths: [], process: { args: ${JSON.stringify(probeMounts(['/x/sub']))} } })`,
  );
  const r = R('run', '--id', 'cve-sym-c', plan);
  assert.not.ok(existsSync(missing), `${missing} was created on the host`);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\/x\/sub tmpfs$/m);
  assert.ok(statSync(join(rootfs, missing, 'sub')).isDirectory(), 'the link was followed inside the root');
  rmSync(rootfs, { recursive: true });
  assert.equal(hostResidue([state]), before);
});

// ---- CVE-2025-31133 / CVE-2025-52565: /dev/null for masking, /dev/console -----

// The image's /dev/null is a symlink to /proc/sys/kernel/core_pattern and no
// tmpfs covers /dev: masking a file would bind the host-wide core_pattern
// over it, where the container can write it. CTC_OP_MASK checks, through the
// fd it binds, that /dev/null is the 1:3 device.
// Protection off: in op_mask, delete the S_ISCHR/makedev(1, 3) check and
// its `return -ENODEV;`. Tried: the run succeeds and prints "EXPOSED" and
// "core": /secret is the host-wide core_pattern (read, never written).
test('CVE-2025-31133: a /dev/null that is a symlink into /proc is refused at fs.mask', () => {
  const rootfs = image('null');
  writeFileSync(join(rootfs, 'secret'), 'secret\n');
  symlinkSync('/proc/sys/kernel/core_pattern', join(rootfs, 'dev', 'null'));
  const corePattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
  const plan = build(
    'null',
    `container({ rootfs: dirRootfs(${JSON.stringify(rootfs)}), mounts: [defaultMounts[0]], maskedPaths: ['/secret'], readonlyPaths: [],\n` +
      `  process: { args: ['/bin/sh', '-c', 'test "$(stat -f -c %t /secret)" = 9fa0 && echo EXPOSED; cat /secret'] } })`,
  );
  const r = R('run', '--id', 'cve-null', plan);
  assert.is(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /error CT_STEP_FAILED: step \d+ fs\.mask \(\/secret\): .*\[ENODEV\]/);
  assert.match(r.stderr, /hint: .*CVE-2025-31133/);
  assert.not.match(r.stdout, /EXPOSED/);
  assert.is(readFileSync('/proc/sys/kernel/core_pattern', 'utf8'), corePattern, 'core_pattern untouched');
  rmSync(rootfs, { recursive: true });
  assert.equal(hostResidue([state]), before);
});

// Not an attack: the console runc gives a terminal, made safely (CTC_OP_PTY
// binds the verified pty peer onto /dev/console through fds; the checks
// against a redirected target are in bind_console, native/init/pty.c).
// Feature off: in op_pty, pass `0 && !joined` as pty_open's console
// argument. Tried: fails at the rdev count: "stat: can't stat
// '/dev/console': No such file or directory".
test('CVE-2025-52565: with a terminal, /dev/console is the pty, and writing to it reaches the console socket', async () => {
  const rootfs = image('console');
  const plan = build(
    'console',
    `container({ rootfs: dirRootfs(${JSON.stringify(rootfs)}), mounts: defaultMounts, process: { terminal: true, args: ['/bin/sh'] } })`,
  );
  const sock = join(tmp.dir, 'console.sock');
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const rx = spawn(
    python,
    [
      join(pkg, 'test', 'tools', 'tty.py'),
      'receive',
      sock,
      'tty; stat -c %t:%T $(tty) /dev/console; echo via-$((6*7))-console > /dev/console; exit 0\n',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let got = '';
  rx.stdout.on('data', (d) => (got += d));
  const done = new Promise<void>((r) => rx.on('close', () => r()));
  try {
    await until(() => got.startsWith('listening') && existsSync(sock), 'the receiver to listen', 30_000);
    const run = spawnSync(process.execPath, [cli, '--root', state, 'run', '-d', '--id', 'cve-console', '--console-socket', sock, plan], {
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.is(run.status, 0, run.stderr);
    await done;
    assert.match(got, /^\/dev\/pts\/\d+\r?$/m);
    const rdevs = [...got.matchAll(/^([0-9a-f]+:[0-9a-f]+)\r?$/gm)].map((m) => m[1]);
    assert.is(rdevs.length, 2, got);
    assert.is(rdevs[0], rdevs[1], '/dev/console has the rdev of the pty');
    assert.match(rdevs[0], /^8[89a-f]:/, 'a pty peer (major 136..143)');
    assert.match(got, /via-42-console/);
    await until(() => JSON.parse(R('state', 'cve-console').stdout).status === 'stopped', 'the shell to exit');
  } finally {
    if (rx.exitCode === null) rx.kill();
    assert.is(R('delete', '--force', 'cve-console').status, 0);
  }
  rmSync(rootfs, { recursive: true });
  assert.equal(hostResidue([state]), before);
});

// ---- CVE-2025-52881: writes to /proc redirected by the container's mounts ----

// The config binds a directory of the image over /proc/sys, so the sysctl
// write would go to fake/net/ipv4/ip_forward instead of the kernel (with a
// procfs file instead, to a host-wide setting). CTC_OP_SYSCTL opens the file
// beneath the root of a procfs without crossing a mount (EXDEV).
// Protection off: in op_sysctl, open with in_root instead of proc_open:
// `char full[PATH_MAX + 8]; snprintf(full, sizeof full, "/proc/%s", path);
// autoclose int fd = in_root(full, O_WRONLY, 0);`. Tried: fails at "the
// fake file was not written": it holds "1".
test("CVE-2025-52881: a sysctl whose /proc/sys is a bind of the image's own files is refused", () => {
  const rootfs = image('sysctl');
  const fake = join(rootfs, 'fake');
  mkdirSync(join(fake, 'net', 'ipv4'), { recursive: true });
  writeFileSync(join(fake, 'net', 'ipv4', 'ip_forward'), '0\n');
  const plan = build(
    'sysctl',
    `container({ rootfs: dirRootfs(${JSON.stringify(rootfs)}), mounts: [defaultMounts[0], { destination: '/proc/sys', type: 'bind', source: ${JSON.stringify(fake)} }],\n` +
      `  sysctl: { 'net.ipv4.ip_forward': '1' }, maskedPaths: [], readonlyPaths: [], process: { args: ['/bin/true'] } })`,
  );
  const r = R('run', '--id', 'cve-sysctl', plan);
  assert.is(readFileSync(join(fake, 'net', 'ipv4', 'ip_forward'), 'utf8'), '0\n', 'the fake file was not written');
  assert.is(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /error CT_STEP_FAILED: step \d+ proc\.sysctl \(net\.ipv4\.ip_forward\): .*\[EXDEV\]/);
  assert.match(r.stderr, /hint: .*CVE-2025-52881/);
  rmSync(rootfs, { recursive: true });
  assert.equal(hostResidue([state]), before);
});

test.run();
