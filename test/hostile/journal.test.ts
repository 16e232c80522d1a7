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
import { appendFileSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detectCgroups } from '../../executor/cgroups/index.ts';
import { isAlive, procStat } from '../../executor/proc.ts';
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
    const r = spawnSync(process.execPath, [cli, '--root', state, 'create', '--bundle', dir, id], { stdio: ['ignore', fd, fd], timeout: 30_000 });
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

test('a journal that is not root\'s own (another user wrote it) is not acted on', () => {
  const c = created('jr5');
  chownSync(c.journal, 65534, 65534);
  for (const [what, del] of deletes) {
    const r = del('jr5');
    assert.is(r.status, 1, what);
    assert.match(r.stderr, /error CT_JOURNAL_CORRUPT: the journal of jr5[^]*owned by uid 65534/, what);
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
    assert.match(r.stderr, /error CT_JOURNAL_CORRUPT: the journal of jr6[^]*line 1: .*not the plan/, what);
    assert.ok(isAlive(c.pid), `${what}: nothing is undone`);
  }
  writeFileSync(planFile, plan);
  assert.is(run(launcher, ['--root', state, 'delete', '--force', 'jr6']).status, 0);
  assert.equal(hostResidue([state]), before);
});

test.run();
