// Cgroups at work, as the container and the host see them: limits read back
// from inside, the OOM killer and its event, the pids limit against a fork
// bomb, a CPU quota against a busy loop, update and stats, pause/resume,
// nested and relative cgroup paths, joining another container's cgroup,
// the cgroup namespace, and nothing left behind after kill -9.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detectCgroups } from '../../executor/host/cgroups/index.ts';
import { sharesToWeight } from '../../executor/host/cgroups/keys.ts';
import { frozen, inCgroup } from '../cgroup-view.ts';
import { cli, ctc, hostResidue, tempDir, until } from '../helpers.ts';

const tmp = tempDir();
const root = join(tmp.dir, 'state');
const ids = ['cg1', 'cg2', 'cg3', 'cg4', 'cg5', 'cg6', 'cg7', 'cg8', 'cg9'];
test.after(() => {
  for (const id of ids) ctc(['--root', root, 'delete', '--force', id]);
  tmp.remove();
});
const before = hostResidue([root]);
const cg = detectCgroups();
const v1 = cg.layout === 'v1';
const R = (...args: string[]) => ctc(['--root', root, ...args]);
/** No cgroup namespace (and no cgroup mount): /proc/self/cgroup then shows the host's paths. */
const hostCgroupView = "namespaces: ['mount', 'uts', 'ipc', 'pid', 'network'], mounts: defaultMounts.filter((m) => m.type !== 'cgroup'),";

/** Builds a hostRootfs container running a shell script; returns its plan. */
function plan(name: string, script: string, extra = ''): string {
  const src = join(tmp.dir, `${name}.ct.ts`);
  writeFileSync(
    src,
    `import { container, defaultMounts, hostRootfs } from 'ctc';\nexport default container({ rootfs: hostRootfs(), ${extra.includes('mounts:') ? '' : 'mounts: defaultMounts,'} ${extra}\n  process: { args: ['/bin/sh', '-c', ${JSON.stringify(script)}] } });\n`,
  );
  const b = ctc(['build', src]);
  assert.is(b.status, 0, b.stderr);
  return join(tmp.dir, `${name}.plan`);
}

const detached = (id: string, planFile: string, env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [cli, '--root', root, 'run', '-d', '--id', id, planFile], {
    stdio: 'ignore',
    env: { ...process.env, ...env },
  });
  assert.is(r.status, 0, `run -d ${id}`);
};
const state = (id: string) => JSON.parse(R('state', id).stdout);
/** Runs body; whatever a failed assertion left of these containers goes, so no later residue check sees it. */
async function removing(ids: string[], body: () => void | Promise<void>): Promise<void> {
  try {
    await body();
  } finally {
    for (const id of ids) R('delete', '--force', id);
  }
}

/** A block device of this machine as major:minor: the root's, else the first the kernel lists (the VM's root is 9p; it has loop devices). */
function blockDevice(): [number, number] {
  const dev = statSync('/').dev;
  const root: [number, number] = [(dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & 0xfff00)];
  if (existsSync(`/sys/dev/block/${root.join(':')}`)) return root;
  const first = readdirSync('/sys/dev/block').sort()[0];
  assert.ok(first, 'a block device to throttle');
  return first.split(':').map(Number) as [number, number];
}

test("every configured limit reads back from the container's own cgroup files (v1's, or v2's as runc converts them)", () => {
  const [major, minor] = blockDevice();
  const common = `cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0' }, pids: { limit: 40 },
      blockIO: { throttleReadBpsDevice: [{ major: ${major}, minor: ${minor}, rate: 1048576 }] }, hugepageLimits: [{ pageSize: '2MB', limit: '4Mi' }]`;
  // v2 has no per-cgroup swappiness (ctc refuses it there); its swap file is OCI's memory+swap minus the limit
  const [script, memory, expected] = v1
    ? [
        'cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes memory/memory.soft_limit_in_bytes memory/memory.memsw.limit_in_bytes memory/memory.swappiness ' +
          'cpu/cpu.shares cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpuset/cpuset.cpus pids/pids.max blkio/blkio.throttle.read_bps_device; ' +
          'cat unified/hugetlb.2MB.max 2>/dev/null || echo no-hugetlb',
        "memory: { limit: '64Mi', reservation: '32Mi', swap: '128Mi', swappiness: 10 }",
        [
          String(64 * 2 ** 20),
          String(32 * 2 ** 20),
          String(128 * 2 ** 20),
          '10',
          '512',
          '50000',
          '100000',
          '0',
          '40',
          `${major}:${minor} 1048576`,
          String(4 * 2 ** 20),
        ],
      ]
    : [
        'cd /sys/fs/cgroup; cat memory.max memory.low memory.swap.max cpu.weight cpu.max cpuset.cpus pids.max io.max hugetlb.2MB.max',
        "memory: { limit: '64Mi', reservation: '32Mi', swap: '128Mi' }",
        [
          String(64 * 2 ** 20),
          String(32 * 2 ** 20),
          String(64 * 2 ** 20),
          String(sharesToWeight(512)),
          '50000 100000',
          '0',
          '40',
          `${major}:${minor} rbps=1048576 wbps=max riops=max wiops=max`,
          String(4 * 2 ** 20),
        ],
      ];
  const r = ctc(['run', plan('limits', script, `resources: { ${memory}, ${common} },`)]);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), expected);
});

test('the cgroup namespace: the container sees its own cgroup as /', () => {
  const r = ctc(['run', plan('cgns', 'cat /proc/self/cgroup')]);
  assert.is(r.status, 0, r.stderr);
  for (const line of r.stdout.trim().split('\n')) assert.match(line, /:\/$/, line);
});

test("no cgroup namespace: the cgroup mount shows the container's own cgroup, bound from the host (as runc does)", () => {
  // the pids files: v1's pids hierarchy, or v2's one tree
  const script =
    'cat /proc/self/cgroup | grep -c ":/ctc/"; d=/sys/fs/cgroup/pids; [ -d $d ] || d=/sys/fs/cgroup; cat $d/pids.max; ls $d | grep -c "^ctc$"; exit 0';
  const p = plan('nocgns', script, "namespaces: ['mount', 'uts', 'ipc', 'pid', 'network'], resources: { pids: { limit: 21 } },");
  assert.match(readFileSync(p, 'utf8'), /mount\.cgroup dst=\/sys\/fs\/cgroup .*path=\/ctc\/\{id\}/, 'the plan says which cgroup is bound');
  const r = ctc(['run', p]);
  assert.is(r.status, 0, r.stderr);
  const [paths, max, hostDirs] = r.stdout.trim().split('\n');
  assert.ok(Number(paths) > 0, 'the process is in its own cgroup, by host path');
  assert.is(max, '21', "the container's own pids limit is what it sees");
  assert.is(hostDirs, '0', "the host's /ctc cgroup dir is not visible");
});

test('a memory hog is OOM-killed, and events reports the oom', async () => {
  // The hog raises its own oom_score_adj, so the kernel picks it, never the init (sh): the container must outlive its OOM.
  const hog = 'sleep 1; (echo 1000 > /proc/self/oom_score_adj; head -c 400000000 /dev/zero | tail); echo survived; sleep 60';
  detached('cg1', plan('oom', hog, "resources: { memory: { limit: '24Mi', swap: '24Mi' } },"));
  const events = spawn(process.execPath, [cli, '--root', root, 'events', '--interval', '200ms', 'cg1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  events.stdout.on('data', (d) => (out += d));
  events.stderr.on('data', (d) => (err += d));
  try {
    await until(() => out.includes('"type":"oom"'), 'an oom event', 60_000); // a TCG guest takes 10-30 s to fill 24 MiB
    const oom = out.split('\n').find((l) => l.includes('"oom"'))!;
    assert.equal(JSON.parse(oom), { type: 'oom', id: 'cg1' });
    assert.ok(
      out.split('\n').some((l) => l.includes('"type":"stats"')),
      'stats events too',
    );
    // the end of the container; one already ended (its init taken by the OOM after all) is 'container not running'
    const kill = R('kill', 'cg1', 'KILL');
    assert.ok(kill.status === 0 || /^container not running: /.test(kill.stderr), `kill: ${kill.status} ${kill.stderr}`);
    const [code, signal] = await new Promise<[number | null, string | null]>((r) => events.on('close', (c, sig) => r([c, sig])));
    assert.is(code, 0, `events ends when the container does (signal ${signal}): ${err}${out.split('\n').slice(-3).join('\n')}`);
    assert.is(R('delete', 'cg1').status, 0);
  } finally {
    events.kill();
    R('delete', '--force', 'cg1');
  }
});

test('a fork bomb stops at the pids limit', () => {
  const r = ctc([
    'run',
    // The bomb runs in a shell of its own (a failed fork ends it); the count needs no fork.
    plan(
      'forks',
      "sh -c 'i=0; while [ $i -lt 60 ]; do sleep 3 & i=$((i+1)); done' 2>/dev/null; set -- /proc/[0-9]*; echo $#",
      'resources: { pids: { limit: 20 } },',
    ),
  ]);
  assert.is(r.status, 0, r.stderr);
  const n = Number(r.stdout.trim().split('\n').pop());
  assert.ok(n <= 20 && n > 5, `${n} processes, at most 20`);
});

test('a CPU quota bounds a busy loop: the kernel throttles it in most periods, and it gets well under a CPU', () => {
  // CPU time in ns: v1's cpuacct.usage, or v2's cpu.stat usage_usec; cpu.stat's nr_periods and nr_throttled on both
  const used =
    'used() { cat /sys/fs/cgroup/cpuacct/cpuacct.usage 2>/dev/null || echo $(( $(sed -n "s/^usage_usec //p" /sys/fs/cgroup/cpu.stat) * 1000 )); }; ';
  const stat = 'stat() { f=/sys/fs/cgroup/cpu/cpu.stat; [ -f $f ] || f=/sys/fs/cgroup/cpu.stat; sed -n "s/^$1 //p" $f; }; ';
  const r = ctc([
    'run',
    plan(
      'quota',
      `${used}${stat}u0=$(used); p0=$(stat nr_periods); n0=$(stat nr_throttled); t0=$(date +%s%N); timeout 2 sh -c "while :; do :; done"; ` +
        't1=$(date +%s%N); u1=$(used); echo $(( (u1 - u0) * 1000 / (t1 - t0) )) $(( $(stat nr_periods) - p0 )) $(( $(stat nr_throttled) - n0 ))',
      'resources: { cpu: { quota: 20000, period: 100000 } },',
    ),
  ]);
  assert.is(r.status, 0, r.stderr);
  const [permille, periods, throttled] = r.stdout.trim().split(' ').map(Number);
  assert.ok(periods >= 10 && throttled >= periods / 2, `throttled in ${throttled} of ${periods} periods of 100 ms`);
  // About 20% of a CPU, and clearly less than the whole CPU an unthrottled loop takes. A virtual CPU is charged for the
  // time its host runs something else: a TCG guest on a busy machine measured 33-46% here.
  assert.ok(permille > 100 && permille < 700, `used ${permille / 10}% of a CPU against a 20% quota`);
});

test("update changes a running container's memory and pids limits, and stats shows them", () =>
  removing(['cg2'], () => {
    detached('cg2', plan('upd', 'exec sleep 60', "resources: { memory: { limit: '64Mi' }, pids: { limit: 50 } },"));
    const first = JSON.parse(R('stats', 'cg2').stdout);
    assert.is(first.type, 'stats');
    assert.is(first.data.memory.usage.limit, 64 * 2 ** 20);
    const u = R('update', '--memory', '96m', '--pids-limit', '33', 'cg2');
    assert.is(u.status, 0, u.stderr);
    const after = JSON.parse(R('stats', 'cg2').stdout).data;
    assert.is(after.memory.usage.limit, 96 * 2 ** 20);
    assert.is(after.pids.limit, 33, 'pids.max');
    const bad = R('update', '--cpuset-cpus', '4095', 'cg2');
    assert.is(bad.status, 1, 'a CPU this machine has not: the kernel refuses it (v1 and v2), and that is an error');
    assert.is(JSON.parse(R('stats', 'cg2').stdout).data.memory.usage.limit, 96 * 2 ** 20, 'and the limits stay as they were');
    // below the usage: v1 refuses it (EBUSY); v2 takes it and reclaims, or OOM-kills
    const low = R('update', '--memory', '1k', 'cg2');
    assert.is(low.status, v1 ? 1 : 0, low.stderr);
    // v2 then reclaims or OOM-kills the sleep, and the container may be gone: only v1's unchanged limit can be read back
    if (v1) assert.is(JSON.parse(R('stats', 'cg2').stdout).data.memory.usage.limit, 96 * 2 ** 20, 'v1: the limit stays as it was');
    assert.is(R('delete', '--force', 'cg2').status, 0);
  }));

test('stats prints an unlimited memory limit exactly as the kernel has it (a JS number would round it)', () =>
  removing(['cg9'], () => {
    detached('cg9', plan('unlimited', 'exec sleep 60'));
    const out = R('stats', 'cg9').stdout;
    // v1: the huge page-aligned number the file holds; v2: "max", which runc reports as the largest u64
    const file = v1
      ? join(cg.mounts().find((m) => m.data === 'memory')?.host ?? '/sys/fs/cgroup/memory', 'ctc', 'cg9', 'memory.limit_in_bytes')
      : '';
    const exact = v1 ? readFileSync(file, 'utf8').trim() : '18446744073709551615';
    assert.ok(BigInt(exact) > 2n ** 53n, `${exact} is past what a JS number holds exactly`);
    assert.match(out, new RegExp(`"usage":\\{"limit":${exact},`), out);
    assert.is(R('delete', '--force', 'cg9').status, 0);
  }));

test('pause freezes every process (no CPU used) and resume lets them go on', () =>
  removing(['cg3'], async () => {
    detached('cg3', plan('busy', 'sh -c "while :; do :; done" & exec sleep 60'));
    const usage = () => JSON.parse(R('stats', 'cg3').stdout).data.cpu.usage.total as number;
    assert.is(R('pause', 'cg3').status, 0);
    assert.is(state('cg3').status, 'paused');
    for (const pid of cg.pids('/ctc/cg3'))
      assert.ok(frozen(pid), `pid ${pid} frozen (v2: cgroup.events says frozen 1; v1: it sleeps in D)`);
    const u0 = usage();
    await new Promise((r) => setTimeout(r, 400));
    assert.is(usage(), u0, 'no CPU used while paused');
    assert.is(R('resume', 'cg3').status, 0);
    assert.is(state('cg3').status, 'running');
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(usage() > u0, 'CPU used again after resume');
    assert.is(R('kill', '--all', 'cg3', 'KILL').status, 0);
    await until(() => state('cg3').status === 'stopped', 'the container to stop');
    assert.is(R('delete', 'cg3').status, 0);
  }));

test('nested relative cgroup paths go under CTC_CGROUP_PARENT, and the parents ctc made go with the container', () => {
  const parent = `/ctc-parent-${process.pid}`;
  assert.not.ok(cg.exists(parent));
  const p = plan('nested', 'cat /proc/self/cgroup | head -1', `cgroupsPath: 'a/b/{id}', ${hostCgroupView}`);
  const r = ctc(['--root', root, 'run', '--id', 'cg4', p], { env: { CTC_CGROUP_PARENT: parent } });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`:${parent}/a/b/cg4$`, 'm'));
  assert.not.ok(cg.exists(parent), 'the parents ctc created are removed with the container');
});

test("a container joins an existing cgroup (another container's) and does not remove it", () =>
  removing(['cg5', 'cg6'], () => {
    const shared = "cgroupsPath: '/ctc/shared-cg5',";
    detached('cg5', plan('owner', 'exec sleep 60', shared));
    const r = R('run', '--id', 'cg6', plan('guest', 'cat /proc/self/cgroup', `${shared} ${hostCgroupView}`));
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, inCgroup('/ctc/shared-cg5'), "the guest is in the owner's cgroup (v1's memory line, v2's 0::)");
    assert.ok(cg.exists('/ctc/shared-cg5'), "the owner's cgroup is still there");
    assert.is(R('delete', '--force', 'cg5').status, 0);
    assert.not.ok(cg.exists('/ctc/shared-cg5'));
  }));

test('nothing is left after kill -9 of the container, or of ctc itself in the foreground', async () => {
  detached('cg7', plan('victim', 'exec sleep 60'));
  process.kill(state('cg7').pid, 'SIGKILL');
  await until(() => state('cg7').status === 'stopped', 'the container to stop');
  assert.is(R('delete', 'cg7').status, 0);
  const fg = spawn(process.execPath, [cli, '--root', root, 'run', '--id', 'cg8', plan('fg', 'echo up; exec sleep 60')], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  fg.stdout.on('data', (d) => (out += d));
  await until(() => out.includes('up'), 'the container to start');
  fg.kill('SIGKILL'); // ctc dies; the container and its state stay until delete --force
  await new Promise((r) => fg.on('close', r));
  assert.ok(existsSync(join(root, 'cg8')));
  assert.is(R('delete', '--force', 'cg8').status, 0);
  assert.equal(hostResidue([root]), before);
});

test.run();
