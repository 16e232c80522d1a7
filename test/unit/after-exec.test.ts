// The kernel's execve rules for capabilities (plan/after-exec.ts), the
// warnings for capabilities a source states but the process will not hold,
// and the refusal of an rlimit above a hard limit ctc cannot raise.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CtcError } from '../../common/error.ts';
import { afterExec } from '../../plan/after-exec.ts';
import type { Step } from '../../plan/steps.ts';
import { checkRlimits, hardLimits } from '../../executor/run/host-limits.ts';
import { ctc, tempDir } from '../helpers.ts';

const tmp = tempDir();
test.after(() => tmp.remove());

const NET = ['CAP_NET_BIND_SERVICE'];
const sets = (bounding: string[], permitted: string[], inheritable: string[] = [], ambient: string[] = []) => ({
  bounding,
  effective: permitted,
  permitted,
  inheritable,
  ambient,
});

test('uid other than 0: only ambient capabilities survive, permitted and effective become the ambient set', () => {
  for (const noNewPrivs of [true, false]) {
    assert.equal(afterExec({ ...sets(NET, NET), root: false, noNewPrivs }), {
      inheritable: [],
      permitted: [],
      effective: [],
      bounding: NET,
      ambient: [],
    });
    assert.equal(afterExec({ ...sets(NET, NET, NET, NET), root: false, noNewPrivs }), {
      inheritable: NET,
      permitted: NET,
      effective: NET,
      bounding: NET,
      ambient: NET,
    });
  }
  // an ambient capability not both permitted and inheritable is never raised (PR_CAP_AMBIENT_RAISE is EPERM)
  assert.equal(afterExec({ ...sets(NET, NET, [], NET), root: false, noNewPrivs: true }).ambient, []);
});

test('root: permitted and effective become bounding + inheritable; no_new_privs keeps them within permitted', () => {
  const b = ['CAP_CHOWN', 'CAP_KILL'];
  assert.equal(afterExec({ ...sets(b, ['CAP_KILL']), root: true, noNewPrivs: false }).permitted, b);
  assert.equal(afterExec({ ...sets(b, ['CAP_KILL']), root: true, noNewPrivs: false }).effective, b);
  assert.equal(afterExec({ ...sets(b, ['CAP_KILL']), root: true, noNewPrivs: true }).permitted, ['CAP_KILL']);
  assert.equal(
    afterExec({ ...sets(['CAP_KILL', 'CAP_CHOWN'], []), root: true, noNewPrivs: true }).permitted,
    [],
    'nothing permitted before: nothing gained',
  );
  assert.equal(
    afterExec({ ...sets(['CAP_KILL', 'CAP_CHOWN'], ['CAP_KILL', 'CAP_CHOWN']), root: true, noNewPrivs: true }).bounding,
    ['CAP_CHOWN', 'CAP_KILL'],
    'sets in capability-number order',
  );
});

function build(name: string, process: string) {
  const src = join(tmp.dir, `${name}.ct.ts`);
  writeFileSync(
    src,
    `import { container, hostRootfs } from 'ctc';\nexport default container({\n  rootfs: hostRootfs(),\n  process: {\n    args: ['/bin/true'],\n${process}\n  },\n});\n`,
  );
  return ctc(['build', src]);
}

test('permitted without ambient for a user other than root: a warning at the permitted key (line 7, column 94), with the fix', () => {
  const r = build(
    'lost',
    `    user: { uid: 1000, gid: 1000 },\n    capabilities: { bounding: ['CAP_NET_BIND_SERVICE'], effective: ['CAP_NET_BIND_SERVICE'], permitted: ['CAP_NET_BIND_SERVICE'] },`,
  );
  assert.is(r.status, 0, r.stderr);
  assert.is(
    r.stderr.split('\n').slice(0, 2).join('\n'),
    'ctc: lost.ct.ts:7:94: warning CT_CAP_EXEC: process.capabilities: uid 1000 loses CAP_NET_BIND_SERVICE at execve: a process other than root keeps only its ambient capabilities\n' +
      "  hint: give the capabilities as a list (capabilities: ['CAP_NET_BIND_SERVICE']), which makes them ambient for a user other than root, or add them to inheritable and ambient; else leave them out",
  );
});

test('the list form for a user other than root raises the capabilities as ambient: no warning', () => {
  const r = build('listed', `    user: { uid: 1000, gid: 1000 },\n    capabilities: ['CAP_NET_BIND_SERVICE'],`);
  assert.is(r.status, 0, r.stderr);
  assert.not.match(r.stderr, /warning/);
});

test('root without no_new_privs gains at exec what the bounding set holds: a warning', () => {
  const r = build(
    'gained',
    `    noNewPrivileges: false,\n    capabilities: { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },`,
  );
  assert.is(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /^ctc: gained\.ct\.ts:7:83: warning CT_CAP_EXEC: process\.capabilities: root gains CAP_CHOWN at execve \(permitted and effective become bounding \+ inheritable\)\n  hint: add them to permitted and effective, or drop them from bounding and inheritable, or set noNewPrivileges/,
  );
});

const rlimit = (hard: string): Step => ({
  n: 60,
  kind: 'proc.rlimit',
  args: { type: 'RLIMIT_NOFILE', soft: '1024', hard },
  source: 'app.ct.ts:5:7',
});

test('an rlimit above the hard limit ctc cannot raise is refused, naming it, the value asked and the limit', () => {
  const hard = Array.from({ length: 16 }, () => -1);
  hard[7] = 20000;
  const refused = (steps: Step[], canRaise = false) => {
    try {
      checkRlimits(steps, hard, canRaise);
      return undefined;
    } catch (e) {
      assert.instance(e, CtcError);
      return e as CtcError;
    }
  };
  const e = refused([rlimit('30000')]);
  assert.is(e?.code, 'CT_RLIMIT_HARD');
  assert.is(
    e?.message,
    "RLIMIT_NOFILE: the hard limit asked, 30000, is above this host's hard limit 20000, and ctc cannot raise it (no CAP_SYS_RESOURCE)",
  );
  assert.equal([e?.step, e?.source], [{ n: 60, kind: 'proc.rlimit' }, 'app.ct.ts:5:7']);
  assert.is(refused([rlimit('unlimited')])?.code, 'CT_RLIMIT_HARD');
  assert.is(refused([rlimit('20000')]), undefined, 'up to the hard limit is fine');
  assert.is(refused([rlimit('30000')], true), undefined, 'with CAP_SYS_RESOURCE ctc raises it');
});

test("this process's hard limits, as /proc/self/limits gives them", () => {
  const limits = hardLimits();
  assert.is(limits.length, 16);
  const nofile = execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
  assert.is(limits[7], nofile === 'unlimited' ? -1 : Number(nofile));
});

test.run();
