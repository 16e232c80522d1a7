// ctc explain through the built CLI, on the hello example's plan built in a
// temp folder (so its source lines are there to read), and the tables it
// reads: every kind has a sentence and its syscalls.

import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { effects } from '../../compiler/explain/effects.ts';
import { type KindSpec, stepKinds } from '../../plan/steps.ts';
import { ctc, example, tempDir } from '../helpers.ts';

const tmp = tempDir('ctc-explain-');
test.after(() => tmp.remove());

let plan = '';
test.before(() => {
  copyFileSync(example('hello.ct.ts'), join(tmp.dir, 'hello.ct.ts'));
  copyFileSync(example('limits.ct.ts'), join(tmp.dir, 'limits.ct.ts'));
  for (const name of ['hello', 'limits']) assert.is(ctc(['build', `${name}.ct.ts`], { cwd: tmp.dir }).status, 0);
  plan = readFileSync(join(tmp.dir, 'hello.plan'), 'utf8');
});

/** The number of the step whose line contains text. */
function stepWith(text: string, planText = plan): string {
  const line = planText.split('\n').find((l) => /^\d+ /.test(l) && l.includes(text));
  assert.ok(line, `a step with ${text}`);
  return line!.split(' ')[0];
}

/** `ctc explain` in the temp folder, its output as label → value. */
function explain(planFile: string, n: string): Record<string, string> {
  const r = ctc(['explain', planFile, n], { cwd: tmp.dir });
  assert.is(r.status, 0, r.stderr);
  const fields: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^(step|effect:|syscalls:|source:|preset:)\s+(.*)$/.exec(line);
    if (m) fields[m[1].replace(':', '')] = m[2];
    else if (line.trim().startsWith('| ')) fields.text = line.trim().slice(2);
  }
  return fields;
}

test('a masked path: the effect names it, the syscalls, the default it came from', () => {
  const e = explain('hello.plan', stepWith('fs.mask path=/proc/kcore'));
  assert.match(e.effect, /^hides \/proc\/kcore: .*so the container cannot read it/);
  assert.is(e.syscalls, 'openat2, mount (by ctc-init, inside the new namespaces)');
  assert.is(e.source, 'hello.ct.ts:5:26');
  assert.is(e.text, 'export default container({');
  assert.match(
    e.preset,
    /^maskedPaths\.default: \/proc\/kcore is one of its entries; the plan has exactly its 11 entries; the source line does not name it: the default/,
  );
});

test('a mount from defaultMounts: the source line that names it', () => {
  const e = explain('hello.plan', stepWith('mount.fs type=proc'));
  assert.match(e.effect, /^mounts a read-write proc \(source proc\) at \/proc with nosuid, noexec, nodev/);
  assert.is(e.syscalls, 'openat2, mount (by ctc-init, inside the new namespaces)');
  assert.is(e.source, 'hello.ct.ts:8:3');
  assert.is(e.text, 'mounts: defaultMounts,');
  assert.is(e.preset, 'defaultMounts: defaultMounts[0], the /proc mount; the source line names it');
});

test('seccomp and capabilities: the stdlib defaults, by value', () => {
  const seccomp = explain('hello.plan', stepWith('proc.seccomp'));
  assert.match(
    seccomp.effect,
    /^loads a seccomp filter \(346 BPF instructions, for x86_64 and aarch64\) from 12 rules: .* a call no rule names gets errno:1$/,
  );
  assert.match(seccomp.syscalls, /^seccomp /);
  assert.match(seccomp.preset, /^defaultSeccomp: the filter's digest is defaultSeccomp's/);
  const bounding = explain('hello.plan', stepWith('proc.bounding'));
  assert.match(bounding.effect, /^drops every capability but 14 \(CAP_CHOWN, .*\) from the bounding set, for good/);
  assert.match(bounding.syscalls, /^prctl /);
  assert.match(bounding.preset, /^defaultCapabilities: the bounding set is exactly defaultCapabilities/);
});

test('a host step, one the source wrote itself, and one lowering adds', () => {
  const limits = readFileSync(join(tmp.dir, 'limits.plan'), 'utf8');
  const memory = explain('limits.plan', stepWith('key=memory.limit', limits));
  assert.is(
    memory.effect,
    "sets memory.limit to 67108864 in the container's cgroup: the kernel enforces it on every process of the container",
  );
  assert.is(memory.syscalls, 'openat, write (by ctc on the host)');
  assert.is(memory.source, 'limits.ct.ts:10:15');
  assert.match(memory.text, /memory: \{ limit: '64Mi' \}/);
  assert.is(memory.preset, "none: the values are the source's own (they match no stdlib preset)");
  const propagation = explain('hello.plan', stepWith('mount.propagation'));
  assert.match(propagation.preset, /^none: ctc's lowering adds this step/);
});

test('--format json, and a step the plan does not have', () => {
  const r = ctc(['explain', '--format', 'json', 'hello.plan', stepWith('uts.hostname')], { cwd: tmp.dir });
  const e = JSON.parse(r.stdout);
  assert.equal(
    { kind: e.kind, actor: e.actor, syscalls: e.syscalls, effect: e.effect, source: e.source, preset: e.preset },
    {
      kind: 'uts.hostname',
      actor: 'init',
      syscalls: ['sethostname'],
      effect: "sets the hostname to hello, in the container's own uts namespace",
      source: { where: 'hello.ct.ts:6:3', text: "  hostname: 'hello'," },
      preset: { kind: 'none' },
    },
  );
  const missing = ctc(['explain', 'hello.plan', '999'], { cwd: tmp.dir });
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /error CT_PLAN_STEP: hello\.plan has no step 999: its steps are 1 to \d+/);
});

test('every step kind has a sentence and its syscalls', () => {
  for (const [kind, spec] of Object.entries(stepKinds as Record<string, KindSpec>)) {
    assert.ok(spec.syscalls.length > 0, `${kind} names its syscalls`);
    assert.type(effects[kind as keyof typeof effects], 'function', `${kind} has an effect sentence`);
  }
});

test.run();
