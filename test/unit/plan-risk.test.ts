// The diff and risk rules as pure functions over hand-made plans: the rules
// the CLI tests do not reach (namespaces, limits, seccomp loosened, devices,
// root without a user namespace), and what must not raise a note.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diffPlans } from '../../compiler/review/diff.ts';
import { riskNotes } from '../../compiler/review/risk.ts';
import type { Plan, Step } from '../../plan/steps.ts';

type S = Omit<Step, 'n'>;
const plan = (...steps: S[]): Plan => ({ version: 1, sources: [], steps: steps.map((s, i) => ({ ...s, n: i + 1 }) as Step) });
const codes = (a: Plan, b: Plan) => riskNotes(diffPlans(a, b), a, b).map((r) => [r.code, r.source]);

const clone = (ns: string[]): S => ({ kind: 'ns.clone', args: { ns }, source: 'a.ct.ts:1:1' });
const user = (uid: number): S => ({ kind: 'proc.user', args: { uid, gid: uid }, source: 'a.ct.ts:9:3' });
const limit = (key: string, value: string): S => ({
  kind: 'cgroup.limit',
  args: { path: '/ctc/{id}', key, value },
  source: `a.ct.ts:5:${value.length}`,
});
const seccomp = (def: string, rules: string[]): S => ({
  kind: 'proc.seccomp',
  args: { default: def, arches: ['x86_64'], rules, size: 1, sha256: '0'.repeat(64) },
  source: 'a.ct.ts:12:5',
});

test('a namespace no longer created is shared with the host', () => {
  assert.equal(codes(plan(clone(['mount', 'pid', 'network'])), plan(clone(['mount', 'pid']))), [['RISK_NS_REMOVED', 'a.ct.ts:1:1']]);
  assert.equal(codes(plan(clone(['mount'])), plan(clone(['mount', 'pid']))), [], 'a namespace added narrows');
});

test("networking: a published port and a joined network namespace are noted; ctc's own DNS files are not host mounts", () => {
  const publish = (ports: string[]): S => ({ kind: 'net.publish', args: { table: 'ctc-{idhash}', ports }, source: 'a.ct.ts:8:5' });
  const join: S = { kind: 'ns.join', args: { ns: 'network', path: '/run/netns/web' }, source: 'a.ct.ts:4:3' };
  const dns: S = {
    kind: 'mount.bind',
    args: { src: '{state}/resolv.conf', dst: '/etc/resolv.conf', flags: ['bind'] },
    source: 'a.ct.ts:9:5',
  };
  const base = plan(clone(['mount', 'network']));
  assert.equal(codes(base, plan(clone(['mount', 'network']), publish(['tcp *:80 -> 10.88.0.2:80']), dns)), [
    ['RISK_PORT_PUBLISHED', 'a.ct.ts:8:5'],
  ]);
  const more = codes(plan(publish(['tcp *:80 -> 10.88.0.2:80'])), plan(publish(['tcp *:80 -> 10.88.0.2:80', 'udp *:53 -> 10.88.0.2:53'])));
  assert.equal(more, [['RISK_PORT_PUBLISHED', 'a.ct.ts:8:5']], 'only the rule that is new');
  assert.equal(codes(base, plan(clone(['mount']), join)), [['RISK_NETNS_JOINED', 'a.ct.ts:4:3']], 'joined, not shared with the host');
});

test('limits raised or removed; lowered ones and weights are not risks', () => {
  const before = plan(
    limit('memory.limit', '67108864'),
    limit('pids.limit', '32'),
    limit('cpu.max', '50000 100000'),
    limit('cpu.shares', '512'),
  );
  const after = plan(limit('memory.limit', '134217728'), limit('cpu.max', 'max 100000'), limit('cpu.shares', '1024'));
  assert.equal(
    riskNotes(diffPlans(before, after), before, after).map((r) => `${r.code} ${r.message}`),
    [
      'RISK_LIMIT_RAISED memory.limit raised from 67108864 to 134217728',
      'RISK_LIMIT_RAISED cpu.max raised from 50000 100000 to max 100000',
      'RISK_LIMIT_REMOVED the pids.limit limit (32) is gone',
    ],
  );
  assert.equal(codes(after, before), [], 'the other way round only tightens');
});

test('seccomp: an allowing rule added or a weaker default loosens; a denying rule added does not', () => {
  const base = seccomp('errno:1', ['allow read write']);
  assert.equal(
    codes(plan(base), plan(seccomp('errno:1', ['allow read write', 'allow mount']))).map(([c]) => c),
    ['RISK_SECCOMP_LOOSENED'],
  );
  assert.equal(
    codes(plan(base), plan(seccomp('allow', ['allow read write']))).map(([c]) => c),
    ['RISK_SECCOMP_LOOSENED'],
  );
  assert.equal(codes(plan(base), plan(seccomp('errno:1', ['allow read write', 'errno:1 ptrace']))), []);
  assert.equal(codes(plan(base), plan(seccomp('kill_process', ['allow read write']))), []);
});

test('root without a user namespace is noted only when the change introduces it', () => {
  const ns = clone(['mount', 'user']);
  assert.equal(codes(plan(clone(['mount']), user(1000)), plan(clone(['mount']), user(0))), [['RISK_ROOT_NO_USERNS', 'a.ct.ts:9:3']]);
  assert.equal(
    codes(plan(ns, user(0)), plan(clone(['mount']), user(0))).map(([c]) => c),
    ['RISK_NS_REMOVED', 'RISK_ROOT_NO_USERNS'],
  );
  assert.equal(codes(plan(clone(['mount']), user(0)), plan(clone(['mount']), user(0))), [], 'already root: nothing new');
});

test('devices: an allow rule added and a device node created', () => {
  const rules = (r: string[]): S => ({ kind: 'cgroup.devices', args: { path: '/ctc/{id}', rules: r }, source: 'a.ct.ts:3:3' });
  const node: S = {
    kind: 'dev.node',
    args: { path: '/dev/sda', type: 'b', major: 8, minor: 0, mode: 0o660, uid: 0, gid: 0 },
    source: 'a.ct.ts:7:5',
  };
  assert.equal(codes(plan(rules(['deny a *:* rwm'])), plan(rules(['deny a *:* rwm', 'allow b 8:* rwm']), node)), [
    ['RISK_DEVICE_ALLOWED', 'a.ct.ts:3:3'],
    ['RISK_DEVICE_ALLOWED', 'a.ct.ts:7:5'],
  ]);
});

test('steps that only moved, or only changed source lines, are no change', () => {
  const a = plan(limit('memory.limit', '1'), clone(['mount']), user(0));
  const b = plan({ ...user(0), source: 'a.ct.ts:40:1' }, clone(['mount']), limit('memory.limit', '1'));
  assert.equal(diffPlans(a, b), { changes: [], counts: { added: 0, removed: 0, changed: 0 } });
});

test.run();
