// ctc as podman's OCI runtime: Debian 12's podman 4.3 (root, conmon between
// podman and ctc), with podman's own defaults for the container (its seccomp
// profile, capabilities, masked and read-only paths), as users run it:
//
//   podman --runtime /usr/local/bin/ctc run ...          (the launcher by path)
//   podman --runtime ctc run ...                          (containers.conf names it)
//
// Only where podman keeps its own things is pointed into a temp dir, so the
// host stays clean: storage (vfs: no mounts), run root, tmpdir, file locks
// (not /dev/shm), events, CNI configs, image copies; every container has
// --network none (no CNI, no iptables). The image is the busybox archive of
// test/busybox-image.ts, `podman load`ed: no registry. What podman makes
// elsewhere by design (its conmon cgroup under libpod_parent, c/image's blob
// cache under /var/lib/containers) is removed at the end when the test made it.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxImage } from '../busybox-image.ts';
import { hostResidue, root, tempDir, until } from '../helpers.ts';

const launcher = join(root, 'dist', 'ctc');
const runc = '/usr/sbin/runc';
const tmp = tempDir('ctc-podman-');
const at = (...p: string[]) => join(tmp.dir, ...p);
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

// podman's global options that keep its files in the temp dir (the README's command has none of them)
const isolated = [
  '--root',
  at('root'),
  '--runroot',
  at('runroot'),
  '--tmpdir',
  at('tmp'),
  '--storage-driver',
  'vfs',
  '--cgroup-manager',
  'cgroupfs',
  '--events-backend',
  'file',
];

/** Bit 24 of CapEff: without CAP_SYS_RESOURCE no runtime can raise a hard rlimit (runc fails the same way). */
const canRaiseLimits = (BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`) >> 24n) & 1n;
/** This process's hard limit, at most what podman asks for. */
const hardLimit = (name: string, podmans: number) =>
  Math.min(Number(new RegExp(`^${name}\\s+\\S+\\s+(\\d+)`, 'm').exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? podmans), podmans);

const [nofile, nproc] = [hardLimit('Max open files', 1048576), hardLimit('Max processes', 32768)];

function containersConf(): string {
  return [
    '[containers]',
    // podman asks for nofile 1048576 (and nproc, its default, 32768); a host that denies
    // CAP_SYS_RESOURCE (this test VM's) gets its own hard limits instead, so runc and ctc alike can set them
    ...(canRaiseLimits ? [] : [`default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`]),
    '[engine]',
    'lock_type = "file"', // not /dev/shm/libpod_lock
    `image_copy_tmp_dir = "${at('tmp')}"`, // not /var/tmp
    // conmon gives the runtime only these: the run images go to the test's cache, not /run/ctc-cache
    `conmon_env_vars = ["PATH=${process.env.PATH}", "CTC_CACHE_DIR=${process.env.CTC_CACHE_DIR ?? at('cache')}"]`,
    // ctc as a named runtime (podman --runtime ctc); runtimes listed here get --log FILE --log-format json
    'runtime_supports_json = ["crun", "runc", "ctc"]',
    '[engine.runtimes]',
    `ctc = ["${launcher}"]`,
    '[network]',
    `network_config_dir = "${at('cni')}"`,
  ].join('\n');
}

const env = { ...process.env, CONTAINERS_CONF: at('containers.conf'), CONTAINERS_STORAGE_CONF: at('storage.conf') };

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}
const podman = (runtime: string, ...args: string[]): Ran => {
  const r = spawnSync('podman', [...isolated, '--runtime', runtime, ...args], { encoding: 'utf8', env, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
const ok = (r: Ran, what: string): string => {
  assert.is(r.status, 0, `${what}: ${r.stderr}`);
  return r.stdout.trim();
};

// What the host holds of podman's, runc's and c/image's defaults (compared before and after)
const watched = ['/var/lib/containers', '/run/containers', '/run/libpod', '/var/run/libpod', '/run/runc', '/etc/cni/net.d'];
const cgroupHierarchies = () =>
  readdirSync('/sys/fs/cgroup', { withFileTypes: true })
    .filter((h) => h.isDirectory())
    .map((h) => join('/sys/fs/cgroup', h.name));
const hadLibpodParent = new Set(cgroupHierarchies().filter((h) => existsSync(join(h, 'libpod_parent'))));
let image = '';

function podmanResidue(): string[] {
  const found: string[] = [];
  for (const d of watched) if (existsSync(d)) found.push(`${d}: ${readdirSync(d).sort().join(' ')}`);
  for (const f of readdirSync('/dev/shm')) if (/libpod|podman/.test(f)) found.push(`/dev/shm/${f}`);
  for (const f of readdirSync('/var/tmp')) if (/^(container_images|storage|podman)/.test(f)) found.push(`/var/tmp/${f}`);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n'))
    if (line.includes(tmp.dir)) found.push(`mount ${line.split(' ')[4]}`);
  return found;
}

/** Container ids podman made, from its event log. */
const madeIds = () => [
  ...new Set(
    [
      ...(existsSync(at('tmp', 'events', 'events.log')) ? readFileSync(at('tmp', 'events', 'events.log'), 'utf8') : '').matchAll(
        /"ID":"([0-9a-f]{64})"/g,
      ),
    ].map((m) => m[1]),
  ),
];

const procs = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p));
const read = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return ''; // gone meanwhile
  }
};

/** What a container (or its conmon) can leave: ctc's state dir, its cgroups, its processes. */
function leftovers(id: string): string[] {
  return [
    ...(existsSync(join('/run/ctc', id)) ? [`state /run/ctc/${id}`] : []),
    ...cgroupHierarchies()
      .filter((h) => existsSync(join(h, 'libpod_parent', `libpod-${id}`)))
      .map((h) => `cgroup ${h}/libpod_parent/libpod-${id}`),
    ...procs()
      .filter((p) => read(`/proc/${p}/cgroup`).includes(id) || read(`/proc/${p}/cmdline`).includes(id))
      .map((p) => `process ${p} ${read(`/proc/${p}/comm`).trim()}`),
  ];
}

/** After podman rm: conmon has written the exit and is on its way out; given a moment, nothing of the container is left. */
async function nothingLeft(id: string): Promise<void> {
  await until(() => leftovers(id).length === 0, `${id}'s conmon to exit`, 5_000).catch(() => undefined);
  assert.equal(leftovers(id), []);
}

const before = { podman: podmanResidue(), ctc: hostResidue() };

test.before(() => {
  writeFileSync(at('containers.conf'), containersConf());
  writeFileSync(at('storage.conf'), `[storage]\ndriver = "vfs"\ngraphroot = "${at('root')}"\nrunroot = "${at('runroot')}"\n`);
  busyboxImage(at('busybox.tar'));
  const load = podman(launcher, 'load', '-i', at('busybox.tar'));
  image = /Loaded image: sha256:([0-9a-f]{64})/.exec(load.stdout)?.[1] ?? '';
  assert.ok(image, `podman load: ${load.stdout}${load.stderr}`);
});

test.after(() => {
  for (const id of madeIds()) podman(launcher, 'rm', '-f', '-t', '0', id);
  podman(launcher, 'rmi', '-a', '-f');
  removePodmanDefaults();
  tmp.remove();
});

/** podman's conmon cgroups (libpod_parent/conmon) and c/image's blob cache: podman's by design, gone if the test made them. */
function removePodmanDefaults(): void {
  for (const h of cgroupHierarchies()) {
    if (hadLibpodParent.has(h)) continue;
    for (const d of [join(h, 'libpod_parent', 'conmon'), join(h, 'libpod_parent')]) {
      try {
        rmdirSync(d);
      } catch {
        // absent, or holding something (the residue check names it)
      }
    }
  }
  for (const d of ['/var/lib/containers', '/run/runc'])
    if (!before.podman.some((x) => x.startsWith(`${d}:`))) rmSync(d, { recursive: true, force: true });
}

test("podman run --rm: the output, the exit code; podman's default config runs on ctc", () => {
  const r = podman(launcher, 'run', '--rm', '--network', 'none', image, 'sh', '-c', 'echo hi; exit 3');
  assert.is(r.stdout, 'hi\n', r.stderr);
  assert.is(r.status, 3, r.stderr);
  assert.is(r.stderr, '');
});

const ns = (pid: number | string, kind: string) => readlinkSync(`/proc/${pid}/ns/${kind}`);
const kinds = ['pid', 'ipc', 'uts', 'mnt', 'net', 'cgroup', 'user'];

test("podman run -d, exec (in the init's namespaces, seen from the host), logs, ps, stop -t 1 (SIGTERM, then SIGKILL), rm", async () => {
  const id = ok(podman(launcher, 'run', '-d', '--network', 'none', image, 'sleep', '300'), 'run -d');
  const init = Number(ok(podman(launcher, 'inspect', '--format', '{{.State.Pid}}', id), 'inspect'));
  for (const k of ['pid', 'ipc', 'uts', 'mnt', 'net'])
    assert.is.not(ns(init, k), ns('self', k), `the init has a ${k} namespace of its own`);

  const inside = podman(launcher, 'exec', id, 'sh', '-c', `for k in ${kinds.join(' ')}; do readlink /proc/self/ns/$k; done; exit 5`);
  assert.is(inside.status, 5, inside.stderr);
  assert.equal(
    inside.stdout.trim().split('\n'),
    kinds.map((k) => ns(init, k)),
    "what podman exec runs is in the init's namespaces",
  );
  ok(podman(launcher, 'exec', '-d', id, 'sleep', '301'), 'exec -d');
  let execd = '';
  await until(
    () =>
      (execd = procs().find((p) => read(`/proc/${p}/cmdline`) === 'sleep\0' + '301\0' && read(`/proc/${p}/cgroup`).includes(id)) ?? '') !==
      '',
    "the exec'd sleep",
  );
  for (const k of kinds) assert.is(ns(execd, k), ns(init, k), `the exec'd process (host pid ${execd}) is in the init's ${k} namespace`);

  // conmon gives the runtime's create the container's stdout and stderr: ctc's warnings for podman's
  // seccomp names no kernel has (swapcontext, syscall, timerfd) would be the container's first lines
  assert.is(
    podman(launcher, 'logs', id).stdout + podman(launcher, 'logs', id).stderr,
    '',
    'podman logs holds only what the container wrote',
  );

  assert.match(ok(podman(launcher, 'ps'), 'ps'), new RegExp(`^${id.slice(0, 12)}\\s.*\\sUp `, 'm'));
  const t0 = Date.now();
  ok(podman(launcher, 'stop', '-t', '1', id), 'stop'); // sleep is pid 1: SIGTERM has no handler there, SIGKILL after 1 s
  const took = Date.now() - t0;
  assert.ok(took >= 1000 && took < 10_000, `stop took ${took} ms`);
  assert.is(ok(podman(launcher, 'inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', id), 'inspect'), 'exited 137');
  assert.match(ok(podman(launcher, 'ps', '-a'), 'ps -a'), new RegExp(`^${id.slice(0, 12)}\\s.*Exited \\(137\\)`, 'm'));
  ok(podman(launcher, 'rm', id), 'rm');
  await nothingLeft(id);
});

test('podman stop: a process that handles SIGTERM ends with its own code, before the timeout', async () => {
  const id = ok(
    podman(launcher, 'run', '-d', '--network', 'none', image, 'sh', '-c', 'trap "exit 9" TERM; while :; do sleep 0.1; done'),
    'run -d',
  );
  const t0 = Date.now();
  ok(podman(launcher, 'stop', '-t', '20', id), 'stop');
  assert.ok(Date.now() - t0 < 10_000, 'SIGTERM ended it, not the 20 s timeout');
  assert.is(ok(podman(launcher, 'inspect', '--format', '{{.State.ExitCode}}', id), 'inspect'), '9');
  ok(podman(launcher, 'rm', id), 'rm');
  await nothingLeft(id);
});

test("podman kill: SIGKILL by default (wait says 137), a named signal reaches the process; a second kill is podman's refusal", async () => {
  const id = ok(podman(launcher, 'run', '-d', '--network', 'none', image, 'sleep', '300'), 'run -d');
  ok(podman(launcher, 'kill', id), 'kill');
  assert.is(ok(podman(launcher, 'wait', id), 'wait'), '137');
  const again = podman(launcher, 'kill', id);
  assert.is(again.status, 125);
  assert.match(again.stderr, /can only kill running containers/);
  ok(podman(launcher, 'rm', id), 'rm');
  await nothingLeft(id);

  const usr1 = ok(
    podman(launcher, 'run', '-d', '--network', 'none', image, 'sh', '-c', 'trap "echo got USR1; exit 7" USR1; while :; do sleep 0.1; done'),
    'run -d',
  );
  ok(podman(launcher, 'kill', '--signal', 'USR1', usr1), 'kill -s USR1');
  assert.is(ok(podman(launcher, 'wait', usr1), 'wait'), '7');
  assert.is(podman(launcher, 'logs', usr1).stdout, 'got USR1\n');
  ok(podman(launcher, 'rm', usr1), 'rm');
  await nothingLeft(usr1);
});

// podman reads the runtime's failed create (its stderr, or the JSON log's msg for runtimes it gives
// --log-format json): "executable file not found in" or "no such file or directory" is exit 127,
// "permission denied" 126, anything else 126 too. runc checks the command at create, as ctc must.
const classOf = (stderr: string) =>
  /permission denied|operation not permitted/i.test(stderr)
    ? 'permission denied'
    : /executable file not found in|no such file or directory/i.test(stderr)
      ? 'not found'
      : 'other';

for (const [command, why] of [
  ['/nonexistent', 'a missing path'],
  ['nonexistent', 'a name on no PATH entry'],
  ['/etc/passwd', 'a file without x'],
  ['/etc', 'a directory'],
] as const) {
  test(`podman run of ${why} (${command}): the exit code and podman's error as with runc, by path and as a named runtime`, () => {
    const withRunc = podman(runc, 'run', '--rm', '--network', 'none', image, command);
    for (const runtime of [launcher, 'ctc']) {
      const r = podman(runtime, 'run', '--rm', '--network', 'none', image, command);
      assert.is(r.status, withRunc.status, `${runtime}: ${r.stderr} (runc: ${withRunc.stderr})`);
      assert.is(classOf(r.stderr), classOf(withRunc.stderr), `${runtime}: ${r.stderr} (runc: ${withRunc.stderr})`);
      assert.ok(r.stderr.includes(command), `podman names the command: ${r.stderr}`);
    }
  });
}

test("podman run --rm -it: the process has a terminal of the caller's size (python3 holds the pty)", () => {
  const script = `
import json, os, pty, struct, sys, fcntl, termios
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', 33, 101, 0, 0))
    os.execvp('podman', json.loads(sys.argv[1]))
out = b''
while True:
    try:
        d = os.read(fd, 4096)
    except OSError:
        break
    if not d:
        break
    out += d
print(json.dumps({'out': out.decode(), 'status': os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])}))
`;
  // podman sends the size through conmon once attached, which can be after the process starts (runc alike)
  const sized = 'n=0; while [ "$(stty size 2>/dev/null)" != "33 101" ] && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done';
  const argv = [
    'podman',
    ...isolated,
    '--runtime',
    'ctc',
    'run',
    '--rm',
    '-it',
    '--network',
    'none',
    image,
    'sh',
    '-c',
    `tty; ${sized}; stty size; exit 4`,
  ];
  const r = spawnSync(python, ['-c', script, JSON.stringify(argv)], { encoding: 'utf8', env, timeout: 60_000 });
  const got = JSON.parse(r.stdout || '{}') as { out?: string; status?: number };
  assert.is(got.out, '/dev/pts/0\r\n33 101\r\n', r.stderr);
  assert.is(got.status, 4);
});

test("nothing is left: no ctc state dir, cgroup, process or mount of any container podman made, nothing of podman's outside the temp dir", () => {
  const ids = madeIds();
  assert.ok(ids.length >= 8, `podman's event log names the containers: ${ids.length}`);
  assert.is(ok(podman(launcher, 'ps', '-a', '--format', '{{.ID}}'), 'ps -a'), '', 'every test removed its containers');
  assert.equal(ids.flatMap(leftovers), []);
  const mine = (x: string) => x.includes(tmp.dir) || ids.some((id) => x.includes(id));
  assert.equal(hostResidue().filter(mine), before.ctc.filter(mine));
  assert.equal(
    procs().filter((p) => read(`/proc/${p}/comm`).trim() === 'conmon' && read(`/proc/${p}/cmdline`).includes(tmp.dir)),
    [],
    'no conmon is left',
  );
  removePodmanDefaults();
  assert.equal(podmanResidue(), before.podman);
});

test.run();
