// Checkpoint and restore with criu, on a busybox container that counts in a
// file of its root. Where `criu check` fails (criu 3.17 on a kernel whose
// vDSO it does not know), checkpoint fails with criu's reason and the
// container keeps running and counting, untouched. Where it passes, a
// checkpoint stops the container and a restore brings the count back from
// where it stopped, not from 0. Each case says so when this machine cannot
// run it.

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxBundle } from '../busybox.ts';
import { cgroupFile } from '../cgroup-view.ts';
import { cli, ctc, hostResidue, tempDir, until } from '../helpers.ts';

const tmp = tempDir();
const root = join(tmp.dir, 'state');
const before = hostResidue([root]);
test.after(() => {
  // whatever a failed test left: remove it, then let the suite's residue check judge
  for (const id of ['cp0', 'cp1', 'cp1r', 'cp2', 'cp3', 'cp3r']) ctc(['--root', root, 'delete', '--force', id]);
  tmp.remove();
});

const R = (...args: string[]) => ctc(['--root', root, ...args]);
const state = (id: string) => JSON.parse(R('state', id).stdout);

/** Counts, each value written whole (mv), ten times a second. */
const COUNTER = ['/bin/sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i > /tmp/count.new; mv /tmp/count.new /tmp/count; sleep 0.1; done'];
const count = (dir: string) => {
  try {
    return Number(readFileSync(join(dir, 'rootfs', 'tmp', 'count'), 'utf8'));
  } catch {
    return 0;
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What `criu check` says on this machine, asked directly. */
function criuVerdict(): { installed: boolean; works: boolean; reasons: string[] } {
  const r = spawnSync('criu', ['check'], { encoding: 'utf8' });
  if (r.error) return { installed: false, works: false, reasons: [] };
  const output = `${r.stdout}${r.stderr}`;
  const reasons = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('Error') && !/exited, status=/.test(l));
  return { installed: true, works: r.status === 0 && /^Looks good/m.test(output), reasons };
}
const criu = criuVerdict();

/** A detached busybox counter; its stdio is /dev/null, so nothing of the test's is held by it. */
async function counting(id: string, o: { args?: string[]; mounts?: object[]; memory?: number } = {}): Promise<string> {
  const resources = {
    devices: [{ allow: false, access: 'rwm' }],
    pids: { limit: 100 },
    ...(o.memory ? { memory: { limit: o.memory } } : {}),
  };
  const dir = busyboxBundle(join(tmp.dir, id), { id, args: o.args ?? COUNTER, linux: { resources } });
  if (o.mounts) {
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    config.mounts.push(...o.mounts);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  }
  const r = spawnSync(process.execPath, [cli, '--root', root, 'run', '-d', '--bundle', dir, id], { stdio: 'ignore', timeout: 30_000 });
  assert.is(r.status, 0, `run -d ${id}`);
  await until(() => count(dir) >= 3, `${id} to count`, 60_000);
  return dir;
}

/** The process group and the session of a /proc/PID/stat line (fields 5 and 6). */
const groupAndSession = (stat: string) =>
  stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .slice(2, 4)
    .map(Number);

test("the init and an exec'd process lead their own sessions, as runc's (criu dumps no tree whose session leader is outside)", async () => {
  try {
    await counting('cp0');
    const { pid } = state('cp0');
    assert.equal(groupAndSession(readFileSync(`/proc/${pid}/stat`, 'utf8')), [pid, pid], 'the init, seen from the host');
    const e = R('exec', 'cp0', '/bin/sh', '-c', 'cat /proc/$$/stat');
    assert.is(e.status, 0, e.stderr);
    const inside = Number(e.stdout.split(' ')[0]);
    assert.equal(groupAndSession(e.stdout), [inside, inside], "the exec'd process, seen from inside");
  } finally {
    assert.is(R('delete', '--force', 'cp0').status, 0);
  }
  assert.equal(hostResidue([root]), before);
});

test('where criu cannot work: checkpoint fails with its reason, and the container keeps running and counting', async () => {
  if (criu.works) return console.log('  skipped: `criu check` passes on this machine (the next test runs the full path)');
  const dir = await counting('cp1');
  const { pid } = state('cp1');
  const images = join(tmp.dir, 'images-cp1');
  mkdirSync(images);
  const r = R('checkpoint', '--image-path', images, 'cp1');
  assert.is(r.status, 1, r.stderr);
  assert.is(r.stdout, '');
  if (!criu.installed) {
    assert.match(r.stderr, /error CT_CRIU_MISSING: .*\n  hint: apt-get install criu/);
  } else {
    assert.match(r.stderr, /error CT_CRIU_UNSUPPORTED: criu [\d.]+ cannot checkpoint or restore on this machine/);
    assert.ok(criu.reasons.length > 0, 'criu check printed why');
    assert.ok(r.stderr.includes(criu.reasons[criu.reasons.length - 1]), "criu's last reason is quoted");
    const vdso = criu.reasons.find((l) => /vDSO/.test(l));
    if (vdso) assert.ok(r.stderr.includes(vdso), "criu's vDSO reason is quoted");
  }
  const s = state('cp1');
  assert.is(s.status, 'running');
  assert.is(s.pid, pid, 'the same init');
  const at = count(dir);
  await until(() => count(dir) >= at + 3, 'the counter to go on counting');
  assert.equal(readdirSync(images), [], 'nothing written to the image dir');
  const restore = R('restore', '-d', '--image-path', images, '--bundle', dir, 'cp1r');
  assert.is(restore.status, 1);
  assert.match(restore.stderr, criu.installed ? /error CT_CRIU_UNSUPPORTED: / : /error CT_CRIU_MISSING: /);
  assert.not.ok(existsSync(join(root, 'cp1r')), 'a refused restore leaves no state dir');
  assert.is(R('delete', '--force', 'cp1').status, 0);
  assert.equal(hostResidue([root]), before);
});

/** criu restore, detached; its stdio a file: the restored init inherits them, and a pipe would keep spawnSync waiting. */
function restoreDetached(id: string, images: string, dir: string): void {
  const errFile = join(tmp.dir, `restore-${id}.err`);
  const fd = openSync(errFile, 'w');
  let r;
  try {
    r = spawnSync(process.execPath, [cli, '--root', root, 'restore', '-d', '--image-path', images, '--bundle', dir, id], {
      stdio: ['ignore', fd, fd],
      timeout: 120_000,
    });
  } finally {
    closeSync(fd);
  }
  assert.is(r.status, 0, readFileSync(errFile, 'utf8'));
  assert.is(state(id).status, 'running');
}

/** The last NSpid of a host pid: its pid in its own pid namespace. */
const pidInside = (pid: number) => Number(/^NSpid:.*\s(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

const MEMORY = 64 << 20;

test('where criu works: checkpoint stops the container; restore brings it back as it was: the count, the pids inside, its limits and its bind', async () => {
  if (!criu.works)
    return console.log(
      `  skipped: \`criu check\` fails on this machine${criu.reasons.length ? `: ${criu.reasons[criu.reasons.length - 1]}` : ' (no criu)'}`,
    );
  const data = join(tmp.dir, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'marker'), 'before\n');
  const dir = await counting('cp2', {
    args: ['/bin/sh', '-c', `sleep 1000 & echo $! > /tmp/child; ${COUNTER[2]}`],
    mounts: [{ destination: '/data', type: 'bind', source: data, options: ['rbind', 'ro'] }],
    memory: MEMORY,
  });
  const child = Number(readFileSync(join(dir, 'rootfs', 'tmp', 'child'), 'utf8'));
  const images = join(tmp.dir, 'images-cp2');
  const r = R('checkpoint', '--image-path', images, 'cp2');
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout + r.stderr, '', 'silent on success, as runc');
  await until(() => state('cp2').status === 'stopped', 'the checkpointed container to stop');
  const atCheckpoint = count(dir);
  await sleep(500);
  assert.is(count(dir), atCheckpoint, 'nothing counts while it is checkpointed');
  assert.ok(existsSync(join(images, 'ctc-checkpoint.json')), "ctc's description next to criu's images");
  assert.ok(
    readdirSync(images).some((f) => f.endsWith('.img')),
    "criu's images",
  );
  assert.is(R('delete', 'cp2').status, 0, 'the stopped container is deleted as any other');

  restoreDetached('cp2', images, dir);
  const seen: number[] = [];
  await until(
    () => {
      seen.push(count(dir));
      return seen[seen.length - 1] > atCheckpoint + 2;
    },
    'the restored counter to count on',
    60_000,
  );
  assert.ok(Math.min(...seen) >= atCheckpoint, `counted on from ${atCheckpoint}, not from 0: ${seen.slice(0, 5).join(' ')}`);
  const { pid } = state('cp2');
  assert.is(pidInside(pid), 1, 'the init is pid 1 of its namespace again');
  assert.is(R('exec', 'cp2', 'cat', `/proc/${child}/comm`).stdout, 'sleep\n', `the background sleep is pid ${child} inside again`);
  assert.is(cgroupFile(pid, 'pids', 'pids.max'), '100', "the bundle's pids limit");
  assert.is(
    cgroupFile(pid, 'memory', existsSync('/sys/fs/cgroup/memory') ? 'memory.limit_in_bytes' : 'memory.max'),
    String(MEMORY),
    "the bundle's memory limit",
  );
  writeFileSync(join(data, 'marker'), 'after\n');
  assert.is(R('exec', 'cp2', 'cat', '/data/marker').stdout, 'after\n', "/data is the host's directory, bound again");
  assert.is(R('exec', 'cp2', 'touch', '/data/x').status, 1, 'and read-only again');
  assert.is(R('delete', '--force', 'cp2').status, 0);
  assert.equal(hostResidue([root]), before);
});

/** COUNTER that also appends each value to /tmp/log: the order of what was counted, whoever counted it. */
const LOGGING = ['/bin/sh', '-c', COUNTER[2].replace('sleep 0.1;', 'echo $i >> /tmp/log; sleep 0.1;')];
const logged = (dir: string) => {
  try {
    return readFileSync(join(dir, 'rootfs', 'tmp', 'log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
};

test('where criu works: --leave-running leaves the container counting; its checkpoint restores into a new id', async () => {
  if (!criu.works) return console.log('  skipped: `criu check` fails on this machine');
  const dir = await counting('cp3', { args: LOGGING });
  const { pid } = state('cp3');
  const images = join(tmp.dir, 'images-cp3');
  const beforeCheckpoint = count(dir);
  const r = R('checkpoint', '--leave-running', '--image-path', images, 'cp3');
  assert.is(r.status, 0, r.stderr);
  const atCheckpoint = count(dir);
  const s = state('cp3');
  assert.is(s.status, 'running');
  assert.is(s.pid, pid, 'the same init');
  // far enough past the checkpoint that the restored counter's values are told apart from these
  await until(() => count(dir) >= atCheckpoint + 20, 'the container to count on', 60_000);
  assert.is(R('delete', '--force', 'cp3').status, 0);
  const atDelete = logged(dir).length;

  restoreDetached('cp3r', images, dir);
  assert.is.not(state('cp3r').pid, pid);
  await until(() => logged(dir).length > atDelete, 'the restored counter to count', 60_000);
  // its first value follows the one it had when dumped: the log tells, however slow this machine is to look
  const first = logged(dir)[atDelete];
  assert.ok(
    first >= beforeCheckpoint && first <= atCheckpoint + 1,
    `the restored counter went on from the checkpoint (${beforeCheckpoint}..${atCheckpoint}): ${first}`,
  );
  assert.not.ok(existsSync(join(root, 'cp3')), "the old id's state is gone");
  assert.is(R('delete', '--force', 'cp3r').status, 0);
  assert.equal(hostResidue([root]), before);
});

test.run();
