// Issue 18, point 6: journal lines were trusted. Appending
// {"undo":"state.remove","dir":"/any/dir"} to a container's journal made
// `ctc delete --force` empty and remove that directory; a hook.poststop line
// ran any path; a cgroup.remove line killed what was in another cgroup and
// removed it; an init.kill line killed another process. Each attack as it
// was tried, on a created busybox container, through the native launcher
// (dist/ctc, and with no Node to hand over to: the launcher itself must not
// act) and through the TypeScript CLI (node dist/ctc.mjs, and dist/ctc with
// CTC_NATIVE=0): CT_JOURNAL_CORRUPT naming the line, nothing undone (the
// container is still there and running), the victim untouched; with the
// line gone, the container deletes as before. Needs root.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detectCgroups } from '../../executor/host/cgroups/index.ts';
import { isAlive, procStat } from '../../executor/container/proc.ts';
import { busyboxBundle } from '../busybox.ts';
import { cli, ctc, hostResidue, root as pkgRoot, tempDir, type Ran } from '../helpers.ts';

const tmp = tempDir('ctc-journal-');
const state = join(tmp.dir, 'state');
const before = hostResidue([state]);
const launcher = join(pkgRoot, 'dist', 'ctc');
const ids = ['jr1', 'jr2', 'jr3', 'jr4', 'jr5', 'jr6'];
const sleepers: ChildProcess[] = [];
const victimCgroup = `/ctc-hostile-${process.pid}`;
test.after(() => {
  for (const id of ids) ctc(['--root', state, 'delete', '--force', id]);
  for (const s of sleepers) s.kill('SIGKILL');
  const cg = detectCgroups();
  if (cg.exists(victimCgroup)) cg.remove(victimCgroup);
  tmp.remove();
});

function run(cmd: string, args: string[], env: Record<string, string> = {}): Ran {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: pkgRoot, env: { ...process.env, ...env }, input: '', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The ways `ctc delete --force` runs: each must refuse the journal. */
const deletes: [string, (id: string) => Ran][] = [
  ['the native launcher', (id) => run(launcher, ['--root', state, 'delete', '--force', id])],
  ['the TypeScript CLI', (id) => run(process.execPath, [cli, '--root', state, 'delete', '--force', id])],
  ['the launcher with CTC_NATIVE=0', (id) => run(launcher, ['--root', state, 'delete', '--force', id], { CTC_NATIVE: '0' })],
];

/** A created (not started) busybox container: its init waits, alive, in its cgroup. */
function created(id: string): { pid: number; journal: string } {
  const dir = busyboxBundle(join(tmp.dir, id), { id, args: ['/bin/sleep', '60'] });
  const out = join(tmp.dir, `${id}.out`);
  const fd = openSync(out, 'w');
  try {
    const r = spawnSync(process.execPath, [cli, '--root', state, 'create', '--bundle', dir, id], {
      stdio: ['ignore', fd, fd],
      timeout: 30_000,
    });
    assert.is(r.status, 0, readFileSync(out, 'utf8'));
  } finally {
    closeSync(fd);
  }
  return { pid: JSON.parse(ctc(['--root', state, 'state', id]).stdout).pid, journal: join(state, id, 'journal') };
}

/**
 * Appends the line to the journal; each way of deleting must fail with
 * CT_JOURNAL_CORRUPT naming it, the launcher on its own must not act
 * (it hands over: no Node here), and after each the container must be as
 * it was and `untouched` must hold. Then the line goes, and delete works.
 */
function refused(id: string, line: string, untouched: () => void): void {
  const c = created(id);
  const original = readFileSync(c.journal, 'utf8');
  appendFileSync(c.journal, line + '\n');
  const n = original.split('\n').length; // the appended line's number
  const check = (what: string, r: Ran) => {
    untouched();
    assert.ok(isAlive(c.pid), `${what}: the container's init is not killed either (nothing is undone)`);
    assert.ok(existsSync(join(state, id, 'state.json')), `${what}: the state dir is kept`);
    return r;
  };
  const alone = check('the launcher alone', run(launcher, ['--root', state, 'delete', '--force', id], { CTC_NODE: '/nonexistent/node' }));
  assert.is(alone.status, 127, 'the launcher does not act on it itself: it hands over (to a Node that is not there)');
  assert.match(alone.stderr, /CT_NODE_MISSING/);
  for (const [what, del] of deletes) {
    const r = check(what, del(id));
    assert.is(r.status, 1, `${what}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`error CT_JOURNAL_CORRUPT: the journal of ${id}[^]*line ${n}: `), what);
    assert.match(r.stderr, /nothing was undone/, what);
  }
  writeFileSync(c.journal, original);
  const r = run(launcher, ['--root', state, 'delete', '--force', id]);
  assert.is(r.status, 0, r.stderr);
  assert.not.ok(existsSync(join(state, id)), 'with the line gone, the container is deleted');
  assert.not.ok(isAlive(c.pid));
}

test('state.remove of another directory: the directory and its file stay', () => {
  const victim = join(tmp.dir, 'victim');
  mkdirSync(victim);
  writeFileSync(join(victim, 'precious'), 'keep me');
  refused('jr1', JSON.stringify({ undo: 'state.remove', step: 1, dir: victim }), () => {
    assert.is(readFileSync(join(victim, 'precious'), 'utf8'), 'keep me', 'the victim file is intact');
  });
  assert.equal(hostResidue([state]), before);
});

test('hook.poststop of a path the plan does not name: it never runs', () => {
  const marker = join(tmp.dir, 'hook-ran');
  const hook = { when: 'poststop', path: '/bin/sh', args: ['sh', '-c', `touch ${marker}`], env: [], timeout: 0 };
  refused('jr2', JSON.stringify({ undo: 'hook.poststop', step: 1, dir: join(state, 'jr2'), hook }), () => {
    assert.not.ok(existsSync(marker), 'the hook did not run: no marker');
  });
  assert.equal(hostResidue([state]), before);
});

function sleeper(): { pid: number; startTime: number } {
  const child = spawn('/bin/sleep', ['600'], { stdio: 'ignore' });
  sleepers.push(child);
  const pid = child.pid!;
  return { pid, startTime: procStat(pid)!.startTime };
}

test('cgroup.remove of another cgroup: it stays, and so does the process in it', () => {
  const cg = detectCgroups();
  const victim = sleeper();
  cg.create(victimCgroup);
  cg.join(victimCgroup, victim.pid);
  refused('jr3', JSON.stringify({ undo: 'cgroup.remove', step: 2, path: victimCgroup }), () => {
    assert.ok(cg.exists(victimCgroup), 'the other cgroup is still there');
    assert.ok(isAlive(victim.pid, victim.startTime), 'the process in it is alive');
  });
  process.kill(victim.pid, 'SIGKILL');
});

test('init.kill of another process: it survives', () => {
  const victim = sleeper();
  refused('jr4', JSON.stringify({ undo: 'init.kill', step: 3, ...victim }), () => {
    assert.ok(isAlive(victim.pid, victim.startTime), 'the other process is alive');
  });
  process.kill(victim.pid, 'SIGKILL');
});

test("a journal that is not root's own (another user wrote it) is not acted on", () => {
  const c = created('jr5');
  chownSync(c.journal, 65534, 65534);
  for (const [what, del] of deletes) {
    const r = del('jr5');
    assert.is(r.status, 1, what);
    assert.match(r.stderr, /error CT_JOURNAL_CORRUPT: the journal of jr5[\s\S]*owned by uid 65534/, what);
    assert.ok(isAlive(c.pid), `${what}: nothing is undone`);
  }
  chownSync(c.journal, 0, 0);
  assert.is(run(launcher, ['--root', state, 'delete', '--force', 'jr5']).status, 0);
  assert.equal(hostResidue([state]), before);
});

test('a plan that is not the one the journal was written for: nothing is undone', () => {
  const c = created('jr6');
  const planFile = join(state, 'jr6', 'plan');
  const plan = readFileSync(planFile, 'utf8');
  writeFileSync(planFile, plan + '\n');
  for (const [what, del] of deletes) {
    const r = del('jr6');
    assert.is(r.status, 1, what);
    assert.match(r.stderr, /error CT_JOURNAL_CORRUPT: the journal of jr6[\s\S]*line 1: .*not the plan/, what);
    assert.ok(isAlive(c.pid), `${what}: nothing is undone`);
  }
  writeFileSync(planFile, plan);
  assert.is(run(launcher, ['--root', state, 'delete', '--force', 'jr6']).status, 0);
  assert.equal(hostResidue([state]), before);
});

// The check itself (ctc-init journal-check ROOT ID), on state dirs made here: where JSON.parse and a
// lax reader would read one line two ways, the line is refused; what the plan names passes, as written.
test('the check: lines that read two ways are refused; what the plan names passes', () => {
  const root = join(tmp.dir, 'crafted');
  const dir = join(root, 'cx');
  mkdirSync(join(dir, 'rootfs'), { recursive: true, mode: 0o711 });
  const hook = { when: 'poststop', path: '/bin/true', args: ['true', 'a b'], env: ['X=1'], timeout: 0 };
  const plan = [
    'ctc-plan 1',
    `digest sha256:${'0'.repeat(64)}`,
    '',
    '1 host state.create dir={state}',
    '2 host cgroup.create path=ctc-x/{id}',
    '3 host net.bridge name=ctcbr0',
    '4 host net.ipam bridge=ctcbr0 dev=eth0 subnets=["10.9.0.1/24"]',
    '5 host net.veth host=v{idhash} peer=eth0',
    '6 host net.publish table=ctc_{idhash} ports=["8080:80/tcp"]',
    `7 host hook.run when=poststop path=/bin/true args=${JSON.stringify(hook.args)} env=["X=1"]`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'plan'), plan);
  const idhash = createHash('sha256').update('cx').digest('hex').slice(0, 8);
  const header = `{"plan":"sha256:${createHash('sha256').update(plan).digest('hex')}"}\n`;
  const allowed = [
    { undo: 'state.remove', step: 1, dir },
    { undo: 'cgroup.remove', step: 2, path: '/ctc/ctc-x/cx', parents: ['/ctc/ctc-x'] },
    { undo: 'net.bridge.release', step: 3, name: 'ctcbr0', netns: '4026531840' },
    { undo: 'net.ipam.release', step: 4, file: join(root, '@ipam', 'ctcbr0', '10.9.0.2'), id: 'cx' },
    { undo: 'net.link.remove', step: 5, name: `v${idhash}`, alias: 'ctc:cx', netns: '4026531840' },
    { undo: 'net.unpublish', step: 6, table: `ctc_${idhash}`, id: 'cx', netns: '4026531840' },
    { undo: 'hook.poststop', step: 7, dir, hook },
  ].map((e) => JSON.stringify(e) + '\n');
  const check = (lines: string) => {
    writeFileSync(join(dir, 'journal'), header + lines, { mode: 0o600 });
    const r = run(join(pkgRoot, 'dist', 'ctc-init'), ['journal-check', root, 'cx'], { CTC_CGROUP_PARENT: '' });
    return { ...r, ok: r.status === 0 };
  };
  const good = check(allowed.join('') + '{"undo":"state.remove","st'); // a torn last line: left out
  assert.ok(good.ok, good.stderr);
  assert.is(good.stdout, allowed.join(''), 'the entries, as written');
  const refusals: [string, RegExp][] = [
    [`{"undo":"state.remove","step":1,"dir":"/victim","dir":${JSON.stringify(dir)}}`, /not a journal entry/], // JSON.parse takes the last, a lax reader the first
    [`{"undo":"state.remove","step":1,"x\\"dir":"/victim","dir":${JSON.stringify(dir)}}`, /a field it does not take: x"dir/],
    [`{"undo":"state.remove","step":1,"dir":"${dir}\\u0000/x"}`, /not a journal entry/], // a C string would end at the NUL
    [`{"undo":"state.remove","step":1e0,"dir":${JSON.stringify(dir)}}`, /not a journal entry/],
    [
      `{"undo":"state.remove","step":1,"dir":${JSON.stringify(dir + '/../..')}}`,
      /state\.remove of .*, which is not the container's state dir/,
    ],
    [
      JSON.stringify({ undo: 'cgroup.remove', step: 2, path: '/ctc/ctc-x/cx', parents: ['/system.slice'] }),
      /the parent \/system\.slice, which is not above/,
    ],
    [JSON.stringify({ undo: 'cgroup.restore', step: 0, files: [['/etc/passwd', 'x']] }), /cgroup\.restore of \/etc\/passwd/],
    [JSON.stringify({ undo: 'net.link.remove', step: 5, name: 'eth0', alias: 'ctc:cx', netns: '1' }), /net\.link\.remove of eth0/],
    [JSON.stringify({ undo: 'net.link.remove', step: 5, name: `v${idhash}`, alias: 'ctc:other', netns: '1' }), /marked ctc:other/],
    [JSON.stringify({ undo: 'net.unpublish', step: 6, table: 'filter', id: 'cx', netns: '1' }), /net\.unpublish of filter/],
    [JSON.stringify({ undo: 'net.ipam.release', step: 4, file: '/etc/shadow', id: 'cx' }), /net\.ipam\.release of \/etc\/shadow/],
    [
      JSON.stringify({ undo: 'hook.poststop', step: 7, dir, hook: { ...hook, args: ['true', 'a', 'b'] } }),
      /hook\.poststop of \/bin\/true, which is not a poststop hook/,
    ],
    [JSON.stringify({ undo: 'hook.poststop', step: 7, dir, hook: { ...hook, shell: true } }), /a field it does not take: shell/],
    [JSON.stringify({ undo: 'rm.rf', step: 1, dir }), /rm\.rf is not an undo ctc writes/],
    ['garbage', /not a journal entry: garbage/],
  ];
  for (const [line, why] of refusals) {
    const r = check(allowed.join('') + line + '\n');
    assert.not.ok(r.ok, line);
    assert.is(r.stdout, '', 'nothing is let through');
    assert.match(r.stderr, new RegExp(`^line ${allowed.length + 2}: `), line);
    assert.match(r.stderr, why, line);
  }
  const nul = check(allowed[0] + 'x\0y\n');
  assert.match(nul.stderr, /^line 3: a NUL byte/);
  writeFileSync(join(dir, 'journal'), allowed[0], { mode: 0o600 });
  assert.match(
    run(join(pkgRoot, 'dist', 'ctc-init'), ['journal-check', root, 'cx']).stderr,
    /^line 1: the journal does not begin with the digest of its plan/,
  );
});

test.run();
