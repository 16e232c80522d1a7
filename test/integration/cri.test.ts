// A Kubernetes pod under ctc through containerd's CRI plugin: Debian's
// containerd 1.6, started here with its own root, state and socket in a
// temporary directory and a runtime handler `ctc` (the runc shim with ctc as
// its BinaryName). The test sends the CRI calls kubelet sends for a pod whose
// RuntimeClass has `handler: ctc` (test/cri-client.ts speaks the gRPC API);
// images are imported with ctr, never pulled (there is no registry here).

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxLayers, writeImage } from '../busybox-image.ts';
import { CriClient, type Decoded, type Message, repeated } from '../cri-client.ts';
import { root, tempDir, until } from '../helpers.ts';

// The runtime binary the handler names: the launcher, `ctc` itself.
const launcher = join(root, 'dist', 'ctc');
const tmp = tempDir('ctc-cri-');
const sock = join(tmp.dir, 'containerd.sock');
// The runc shim runs its runtime with --root /run/containerd/runc/<containerd namespace>: k8s.io for the CRI.
const shimRoot = '/run/containerd/runc/k8s.io';
// kubelet's cgroupfs driver gives each pod a parent like /kubepods/besteffort/pod<uid>; this test's is its own
const cgroupParent = '/ctc-cri-test/pod-ctc-cri-uid';
const hadRunContainerd = existsSync('/run/containerd');
// libcni caches each network's result there until its DEL (containerd gives it no other place)
const cniCache = '/var/lib/cni';
const hadCniCache = existsSync(cniCache);
const PAUSE = 'localhost/ctc-pause:1';
const APP = 'localhost/ctc-app:1';
let daemon: ChildProcess | undefined;
let cri: CriClient;

const ctr = (...args: string[]) => spawnSync('ctr', ['--address', sock, '-n', 'k8s.io', ...args], { encoding: 'utf8', timeout: 60_000 });

// The runtime handler as a cluster configures it (docs/orchestrators.md shows this snippet), then this test's own
// root, state, socket and CNI directories, so nothing of the host's containerd is touched.
const handlerConfig = `[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.ctc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.ctc.options]
  BinaryName = "${launcher}"`;

function writeConfig(): void {
  writeFileSync(
    join(tmp.dir, 'config.toml'),
    [
      'version = 2',
      `root = "${join(tmp.dir, 'root')}"`,
      `state = "${join(tmp.dir, 'state')}"`,
      '[grpc]',
      `  address = "${sock}"`,
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = "${join(tmp.dir, 'opt')}"`,
      '[plugins."io.containerd.grpc.v1.cri"]',
      `  sandbox_image = "${PAUSE}"`,
      // The CRI gives a sandbox oom_score_adj -998; lowering it needs CAP_SYS_RESOURCE, which this machine's
      // bounding set lacks (runc fails there too): containerd's own option keeps it at containerd's score
      '  restrict_oom_score_adj = true',
      // a runtimes table replaces the built-in one: runc stays the default, as in `containerd config default`
      '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
      '  runtime_type = "io.containerd.runc.v2"',
      '[plugins."io.containerd.grpc.v1.cri".cni]',
      `  bin_dir = "${join(tmp.dir, 'cni', 'bin')}"`,
      `  conf_dir = "${join(tmp.dir, 'cni', 'conf')}"`,
      handlerConfig,
    ].join('\n'),
  );
}

// The pod's network: containerd's CRI makes the pod's network namespace and hands it to CNI, which must
// answer with the pod's address. This machine has no CNI plugins, and the usual ones (bridge, ptp) put links
// and routes on the host; so this is a CNI plugin of the test's own, as small as CNI allows, touching only
// the pod's namespace: lo up, and eth0 (a veth pair, both ends inside) with an address. containerd runs it
// as `loopback` (its lo network) and as `ctc-test-net` (the pod's network, this test's conflist).
const cniPlugin = `#!/bin/sh
cat >/dev/null
case "$CNI_COMMAND" in
ADD)
  if [ "$CNI_IFNAME" = lo ]; then
    nsenter --net="$CNI_NETNS" ip link set lo up || exit 1
    printf '{"cniVersion":"0.4.0","interfaces":[{"name":"lo","sandbox":"%s"}],"ips":[{"version":"4","address":"127.0.0.1/8","interface":0}]}' "$CNI_NETNS"
  else
    nsenter --net="$CNI_NETNS" sh -c "ip link add $CNI_IFNAME type veth peer name peer0 && ip link set peer0 up && ip addr add 10.213.7.2/24 dev $CNI_IFNAME && ip link set $CNI_IFNAME up" || exit 1
    printf '{"cniVersion":"0.4.0","interfaces":[{"name":"%s","sandbox":"%s"}],"ips":[{"version":"4","address":"10.213.7.2/24","interface":0}]}' "$CNI_IFNAME" "$CNI_NETNS"
  fi ;;
VERSION) printf '{"cniVersion":"0.4.0","supportedVersions":["0.3.0","0.3.1","0.4.0"]}' ;;
esac
`;

function writeCni(): void {
  mkdirSync(join(tmp.dir, 'cni', 'bin'), { recursive: true });
  mkdirSync(join(tmp.dir, 'cni', 'conf'), { recursive: true });
  for (const name of ['loopback', 'ctc-test-net']) writeFileSync(join(tmp.dir, 'cni', 'bin', name), cniPlugin, { mode: 0o755 });
  const conf = { cniVersion: '0.4.0', name: 'ctc-test-net', plugins: [{ type: 'ctc-test-net' }] };
  writeFileSync(join(tmp.dir, 'cni', 'conf', '10-ctc-test.conflist'), JSON.stringify(conf));
}

/** A busybox image with this command (the pause image's keeps running), imported under name. */
function importImage(name: string, cmd: string[]): void {
  const file = join(tmp.dir, `${name.replace(/\W/g, '_')}.tar`);
  writeImage(file, { format: 'oci', layers: busyboxLayers(), config: { config: { Env: ['PATH=/bin'], Cmd: cmd } } });
  const r = ctr('images', 'import', '--index-name', name, file);
  assert.is(r.status, 0, `import ${name}: ${r.stderr}`);
}

test.before(async () => {
  writeConfig();
  writeCni();
  mkdirSync(join(volume, 'late'), { recursive: true });
  for (const args of [
    ['--bind', volume, volume],
    ['--make-rshared', volume],
  ])
    assert.is(spawnSync('mount', args).status, 0, `mount ${args}`);
  daemon = spawn('containerd', ['--config', join(tmp.dir, 'config.toml')], { stdio: 'ignore' });
  await until(() => existsSync(sock) && spawnSync('ctr', ['--address', sock, 'version']).status === 0, 'containerd to answer', 20_000);
  importImage(PAUSE, ['/bin/sleep', '3600']);
  importImage(APP, ['/bin/sh']);
  cri = new CriClient(sock);
});

// What a failed test leaves running goes through the CRI as kubelet's pod cleanup would (StopPodSandbox stops
// the pod's containers, RemovePodSandbox removes them), before containerd stops: its shims would outlive it.
const pods: string[] = [];

test.after(async () => {
  for (const id of pods) {
    await cri.call('StopPodSandbox', [[1, id]], DEADLINE).catch(() => {});
    await cri.call('RemovePodSandbox', [[1, id]], DEADLINE).catch(() => {});
  }
  cri?.close();
  daemon?.kill('SIGTERM');
  await new Promise((r) => (daemon?.exitCode !== null ? r(undefined) : daemon.once('exit', r)));
  for (const h of readdirSync('/sys/fs/cgroup')) for (const d of [cgroupParent, '/ctc-cri-test']) rmdirQuiet(join('/sys/fs/cgroup', h, d));
  unmountUnder(tmp.dir);
  if (!hadRunContainerd) rmSync('/run/containerd', { recursive: true, force: true });
  if (!hadCniCache) rmSync(cniCache, { recursive: true, force: true });
  tmp.remove();
});

function rmdirQuiet(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not there, or not empty (the residue assertions say so)
  }
}

/** Mount points under dir, deepest first. */
const mountsUnder = (dir: string) =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m?.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);

function unmountUnder(dir: string): void {
  for (const m of mountsUnder(dir)) spawnSync('umount', ['-l', m]);
}

// CRI enums (api.proto): NamespaceMode, PodSandboxState, ContainerState, MountPropagation
const [POD, CONTAINER] = [0, 1];
const [READY, NOTREADY] = [0, 1];
const [RUNNING, EXITED] = [1, 2];
const [HOST_TO_CONTAINER, BIDIRECTIONAL] = [1, 2];
// kubelet gives a CRI call 2 min (--runtime-request-timeout) and a container's stop its pod's grace period;
// this test holds ctc to much less
const DEADLINE = 20;
const GRACE = 2;

const namespaceOptions = (pid: number): Message => [
  [1, POD],
  [2, pid],
  [3, POD],
];
const sandboxConfig = (name: string): Message => [
  [
    1,
    [
      [1, name],
      [2, `${name}-uid`],
      [3, 'default'],
    ],
  ],
  [2, name],
  [3, join(tmp.dir, 'logs', name)],
  // linux: the pod's cgroup parent; its security context: namespaces (pid shared, as shareProcessNamespace: true
  // has it), seccomp RuntimeDefault (an empty SecurityProfile: containerd's default profile)
  [
    8,
    [
      [1, cgroupParent],
      [
        2,
        [
          [1, namespaceOptions(POD)],
          [9, []],
        ],
      ],
    ],
  ],
];
// a burstable container's resources as kubelet sends them: cpu period, quota, shares, memory limit, oom_score_adj
const MEMORY = 64 << 20;
const resources: Message = [
  [1, 100_000],
  [2, 50_000],
  [3, 512],
  [4, MEMORY],
  [5, 999],
];
// A volume as kubelet mounts one with mountPropagation (HostToContainer: rslave, Bidirectional: rshared). The
// CRI wants its source on a shared mount, which / here is not: before() makes it one (a bind onto itself).
const volume = join(tmp.dir, 'volume');

/**
 * An app container: busybox saying it is ready on stdout (the CRI's log) then sleeping, in the pod's ipc,
 * uts and network namespaces, and in its pid namespace if pidMode is POD; the volume at /vol.
 */
const appConfig = (name: string, pidMode: number, propagation: number): Message => [
  [1, [[1, name]]],
  [2, [[1, APP]]],
  ...repeated(3, ['/bin/sh', '-c', 'echo "$0 ready"; exec sleep 3600', name]),
  [
    7,
    [
      [1, '/vol'],
      [2, volume],
      [5, propagation],
    ],
  ],
  [11, `${name}.log`],
  [
    15,
    [
      [1, resources],
      [
        2,
        [
          [3, namespaceOptions(pidMode)],
          [15, []],
        ],
      ],
    ],
  ],
];

/** The pid containerd's verbose status reports (its info's "pid"). */
const infoPid = (status: Decoded) => Number(JSON.parse(status.map(2).info ?? '{}').pid);
const ns = (pid: number, kind: string) => readlinkSync(`/proc/${pid}/ns/${kind}`);
const pidGone = (pid: number) =>
  !existsSync(`/proc/${pid}`) || / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/s, ')'));

/** What runs under ctc: ctc's state dir under the shim's --root (its plan and journal: runc writes neither) names the pid. */
function assertUnderCtc(id: string, pid: number): void {
  for (const f of ['plan', 'journal']) assert.ok(existsSync(join(shimRoot, id, f)), `${id}: ctc's ${f} in ${join(shimRoot, id)}`);
  const st = spawnSync(launcher, ['--root', shimRoot, 'state', id], { encoding: 'utf8' });
  assert.is(st.status, 0, `ctc state ${id}: ${st.stderr}`);
  const state = JSON.parse(st.stdout);
  assert.is(state.pid, pid, `ctc's state of ${id} names the pid containerd reports`);
  assert.is(state.status, 'running');
}

/** The call's answer and how many seconds it took. */
async function timed(method: string, request: Message): Promise<[Decoded, number]> {
  const t0 = Date.now();
  const r = await cri.call(method, request, DEADLINE);
  return [r, (Date.now() - t0) / 1000];
}

interface App {
  name: string;
  id: string;
  pid: number;
  pidMode: number;
}
interface Pod {
  name: string;
  id: string;
  pid: number;
  netns: string;
  apps: App[];
}

/** RunPodSandbox as kubelet sends it for a pod whose RuntimeClass has handler ctc. */
async function runPod(name: string): Promise<Pod> {
  const [run, secs] = await timed('RunPodSandbox', [
    [1, sandboxConfig(name)],
    [2, 'ctc'],
  ]);
  const id = run.str(1);
  assert.ok(id, 'RunPodSandbox names the sandbox');
  pods.push(id);
  assert.ok(secs < 10, `RunPodSandbox took ${secs} s`);
  const status = await cri.call(
    'PodSandboxStatus',
    [
      [1, id],
      [2, true],
    ],
    DEADLINE,
  );
  assert.is(status.msg(1).int(3), READY);
  assert.is(status.msg(1).str(9), 'ctc', 'its runtime handler');
  const spec = JSON.parse(status.map(2).info).runtimeSpec;
  const netns = spec.linux.namespaces.find((n: { type: string }) => n.type === 'network').path;
  return { name, id, pid: infoPid(status), netns, apps: [] };
}

/** CreateContainer and StartContainer of an app in the pod. */
async function startApp(pod: Pod, name: string, pidMode: number, propagation: number): Promise<App> {
  const id = (
    await cri.call(
      'CreateContainer',
      [
        [1, pod.id],
        [2, appConfig(name, pidMode, propagation)],
        [3, sandboxConfig(pod.name)],
      ],
      DEADLINE,
    )
  ).str(1);
  assert.ok(id, `CreateContainer ${name}`);
  await cri.call('StartContainer', [[1, id]], DEADLINE);
  const status = await cri.call(
    'ContainerStatus',
    [
      [1, id],
      [2, true],
    ],
    DEADLINE,
  );
  assert.is(status.msg(1).int(3), RUNNING, `${name} is RUNNING`);
  const app = { name, id, pid: infoPid(status), pidMode };
  pod.apps.push(app);
  return app;
}

const execSync = (app: App, cmd: string) => timed('ExecSync', [[1, app.id], ...repeated(2, ['/bin/sh', '-c', cmd]), [3, 10]]);

/** RemoveContainer of each app, RemovePodSandbox; then nothing of the pod is left on the host. */
async function removePod(pod: Pod): Promise<void> {
  for (const app of pod.apps) await cri.call('RemoveContainer', [[1, app.id]], DEADLINE);
  await cri.call('RemovePodSandbox', [[1, pod.id]], DEADLINE);
  pods.splice(pods.indexOf(pod.id), 1);
  for (const p of [pod.pid, ...pod.apps.map((a) => a.pid)]) assert.ok(pidGone(p), `process ${p} is gone`);
  assert.equal(readdirSync(shimRoot), [], "no ctc state dir is left under the shim's root");
  assert.equal(cgroupsUnder(cgroupParent), [], 'no cgroup is left under the pod parent');
  assert.equal(
    mountsUnder(tmp.dir).filter((m) => m !== volume),
    [],
    "no mount (snapshots, the pod's shm) is left",
  );
  assert.not.ok(existsSync(pod.netns), "the pod's network namespace is gone");
  const cniResults = existsSync(join(cniCache, 'results')) ? readdirSync(join(cniCache, 'results')) : [];
  assert.equal(
    cniResults.filter((f) => f.includes(pod.id)),
    [],
    "CNI's DEL ran for the pod's networks",
  );
}

const cgroupsUnder = (parent: string) =>
  readdirSync('/sys/fs/cgroup').flatMap((h) => {
    const dir = join('/sys/fs/cgroup', h, parent);
    return existsSync(dir)
      ? readdirSync(dir, { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => `${h}${parent}/${e.name}`)
      : [];
  });

test("docs/orchestrators.md's runtime handler is the one this test configures", () => {
  const readme = readFileSync(join(root, 'docs', 'orchestrators.md'), 'utf8');
  const shown = /<!-- cri-handler:begin -->\n```toml\n([^`]*)```\n<!-- cri-handler:end -->/.exec(readme)?.[1];
  assert.is(shown, `${handlerConfig.replace(launcher, '/path/to/ctc')}\n`);
});

// The first pod, made and ended by the tests below in order, as kubelet does it.
let pod: Pod;

test('RunPodSandbox with runtime_handler ctc: the sandbox runs under ctc in the network namespace the CRI made', async () => {
  pod = await runPod('ctc-pod');
  assertUnderCtc(pod.id, pod.pid);
  assert.match(pod.netns, /^\/var\/run\/netns\/cni-/);
  assert.is(ns(pod.pid, 'net'), `net:[${statSync(pod.netns).ino}]`, "the sandbox joined the pod's network namespace by path");
  const status = await cri.call('PodSandboxStatus', [[1, pod.id]], DEADLINE);
  assert.is(status.msg(1).msg(5).str(1), '10.213.7.2', "the pod's address, from CNI in that namespace");
});

test("CreateContainer, StartContainer: the apps' inits are in the sandbox's ipc, uts, net (and pid) namespaces, with their resources", async () => {
  for (const [name, pidMode, propagation] of [
    ['app', CONTAINER, HOST_TO_CONTAINER],
    ['app-pid', POD, BIDIRECTIONAL],
  ] as const) {
    const { id, pid } = await startApp(pod, name, pidMode, propagation);
    assertUnderCtc(id, pid);
    for (const k of pidMode === POD ? ['ipc', 'uts', 'net', 'pid'] : ['ipc', 'uts', 'net'])
      assert.is(ns(pid, k), ns(pod.pid, k), `${name}'s init is in the sandbox's ${k} namespace`);
    if (pidMode === CONTAINER) assert.is.not(ns(pid, 'pid'), ns(pod.pid, 'pid'), `${name} has a pid namespace of its own`);
    assert.is.not(ns(pid, 'mnt'), ns(pod.pid, 'mnt'), `${name} has a mount namespace of its own`);
    const cgroup = join('/sys/fs/cgroup/memory', cgroupParent, id);
    assert.is(
      Number(readFileSync(join(cgroup, 'memory.limit_in_bytes'), 'utf8')),
      MEMORY,
      `${name}'s memory limit, in the cgroup the CRI named`,
    );
    assert.ok(readFileSync(join(cgroup, 'cgroup.procs'), 'utf8').split('\n').includes(String(pid)), `${name}'s init is in it`);
    assert.is(readFileSync(join('/sys/fs/cgroup/cpu', cgroupParent, id, 'cpu.cfs_quota_us'), 'utf8').trim(), '50000');
    assert.is(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim(), '999');
    const log = join(tmp.dir, 'logs', pod.name, `${name}.log`);
    await until(() => existsSync(log) && readFileSync(log, 'utf8').includes(' stdout F '), `${name}'s log`);
    assert.match(readFileSync(log, 'utf8'), new RegExp(`^\\S+ stdout F ${name} ready\\n$`), "the app's stdout reaches the CRI's log");
  }
});

test("ExecSync: what kubelet's exec probes run is in the pod's namespaces; exit code and stderr come back", async () => {
  for (const app of pod.apps) {
    const [exec, secs] = await execSync(
      app,
      'for k in ipc uts net pid; do readlink /proc/self/ns/$k; done; hostname; echo oops >&2; exit 3',
    );
    assert.ok(secs < 5, `ExecSync took ${secs} s`);
    assert.is(exec.int(3), 3, `ExecSync in ${app.name}: ${exec.str(2)}`);
    assert.is(exec.str(2), 'oops\n');
    const pidNs = ns(app.pidMode === POD ? pod.pid : app.pid, 'pid');
    assert.equal(
      exec.str(1).trim().split('\n'),
      [...['ipc', 'uts', 'net'].map((k) => ns(pod.pid, k)), pidNs, 'ctc-pod'],
      `what ${app.name} execs is in the pod's namespaces`,
    );
  }
});

test('volumes with mountPropagation HostToContainer (rslave) and Bidirectional (rshared): a mount the host makes later reaches both apps, its unmount too', async () => {
  const late = join(volume, 'late');
  assert.is(spawnSync('mount', ['-t', 'tmpfs', 'ctc-cri-late', late]).status, 0);
  try {
    writeFileSync(join(late, 'marker'), 'from the host\n');
    for (const app of pod.apps) {
      const [exec] = await execSync(app, 'cat /vol/late/marker');
      assert.is(exec.str(1), 'from the host\n', `${app.name}: ${exec.str(2)}`);
    }
  } finally {
    spawnSync('umount', [late]);
  }
  for (const app of pod.apps) assert.is((await execSync(app, 'test -e /vol/late/marker'))[0].int(3), 1, `${app.name} saw the unmount`);
});

test('StopContainer with a grace period, StopPodSandbox, RemoveContainer, RemovePodSandbox: nothing is left', async () => {
  // app's sleep is pid 1 of its own pid namespace, which ignores SIGTERM: the SIGKILL after the grace ends it
  // (137); app-pid's sleep is not, and the SIGTERM ends it (143)
  for (const [app, code] of [
    [pod.apps[0], 137],
    [pod.apps[1], 143],
  ] as const) {
    const [, secs] = await timed('StopContainer', [
      [1, app.id],
      [2, GRACE],
    ]);
    assert.ok(secs < GRACE + 3, `StopContainer ${app.name} took ${secs} s`);
    const status = (await cri.call('ContainerStatus', [[1, app.id]], DEADLINE)).msg(1);
    assert.is(status.int(3), EXITED);
    assert.is(status.int(7), code, `${app.name}'s exit code`);
    assert.ok(pidGone(app.pid));
  }
  const [, secs] = await timed('StopPodSandbox', [[1, pod.id]]);
  assert.ok(secs < 5, `StopPodSandbox took ${secs} s`);
  assert.is((await cri.call('PodSandboxStatus', [[1, pod.id]], DEADLINE)).msg(1).int(3), NOTREADY);
  await removePod(pod);
});

// The hang: the sandbox's process dies (here SIGKILL from the host), which ends app-pid too (its pid
// namespace's init died); the shim then kills containers whose inits are gone, and must be told so in runc's words.
test('the sandbox dies: StopPodSandbox stops what is left in time, every container EXITED, and the pod is removed', async () => {
  const dying = await runPod('ctc-pod-2');
  const apps = [await startApp(dying, 'app', CONTAINER, HOST_TO_CONTAINER), await startApp(dying, 'app-pid', POD, HOST_TO_CONTAINER)];
  process.kill(dying.pid, 'SIGKILL');
  const [, secs] = await timed('StopPodSandbox', [[1, dying.id]]);
  assert.ok(secs < 5, `StopPodSandbox took ${secs} s`);
  // containerd records the sandbox's exit from its shim's event, which can land just after StopPodSandbox returns (a loaded CI machine saw READY once): polled, as kubelet does
  const deadline = Date.now() + 5000;
  let state = -1;
  while ((state = (await cri.call('PodSandboxStatus', [[1, dying.id]], DEADLINE)).msg(1).int(3)) !== NOTREADY && Date.now() < deadline)
    await sleep(200);
  assert.is(state, NOTREADY);
  for (const app of apps)
    assert.is((await cri.call('ContainerStatus', [[1, app.id]], DEADLINE)).msg(1).int(3), EXITED, `${app.name} EXITED`);
  await removePod(dying);
});

test.run();
