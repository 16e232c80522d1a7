// The executor's own checks of a plan: a plan with a valid digest (anyone can
// compute one) whose steps would act outside what is ctc's is refused before
// anything runs, naming the step.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '../../compiler/build.ts';
import { CtcError } from '../../common/error.ts';
import { parsePlan, printPlan } from '../../plan/text.ts';
import type { Plan, Step } from '../../plan/steps.ts';
import { validatePlanSteps } from '../../plan/validate.ts';
import { join } from 'node:path';
import { example, root } from '../helpers.ts';

const examples = ['hello', 'limits', 'bridge', 'rootless'];

test("every example's plan passes", async () => {
  for (const name of examples) validatePlanSteps((await build(example(`${name}.ct.ts`))).plan.steps);
});

/** The example's plan with one step's arguments changed, printed with a valid digest and read back. */
async function forged(kind: string, args: Record<string, unknown>): Promise<Plan> {
  const { plan } = await build(example('bridge.ct.ts'));
  const steps = plan.steps.map((s) => (s.kind === kind ? ({ ...s, args: { ...s.args, ...args } } as Step) : s));
  return parsePlan(printPlan({ ...plan, steps }));
}

const refusal = (plan: Plan): string => {
  try {
    validatePlanSteps(plan.steps);
  } catch (e) {
    assert.instance(e, CtcError);
    const { code, step, message } = e as CtcError;
    assert.is(code, 'CT_PLAN_INVALID');
    return `step ${step?.n} ${step?.kind}: ${message}`; // as the CLI prints it
  }
  throw new Error('the forged plan was accepted');
};

test("a forged plan that reaches outside what is ctc's is refused, naming the step", async () => {
  assert.match(
    refusal(await forged('mount.bind', { dst: '/etc/../../host' })),
    /^step \d+ mount\.bind: dst must be an absolute path without \.\./,
  );
  assert.match(refusal(await forged('state.create', { dir: '/etc' })), /state\.create: dir must be \{state\}/);
  assert.match(refusal(await forged('rootfs.tmpfs', { dir: '/var' })), /rootfs\.tmpfs: dir must be \{state\}\/rootfs/);
  assert.match(refusal(await forged('cgroup.create', { path: '../../system.slice' })), /cgroup\.create: path must not climb out/);
  assert.match(refusal(await forged('state.file', { name: '../../etc/passwd' })), /state\.file: name must be a plain file name/);
  assert.match(refusal(await forged('net.veth', { host: 'a-name-far-too-long-for-linux' })), /net\.veth: host is not an interface name/);
  assert.match(refusal(await forged('net.addr', { addr: '10.88.0.300/24' })), /net\.addr: addr is not an address with a prefix/);
  assert.match(refusal(await forged('fs.mask', { path: 'proc/kcore' })), /fs\.mask: path must be an absolute path/);
});

test('a joined pid namespace is entered before the clone: a plan that puts its ns.join later, or names a kind ctc cannot join, is refused', async () => {
  const { plan } = await build(join(root, 'test', 'fixtures', 'cri', 'container-shared-pid.config.json'));
  validatePlanSteps(plan.steps);
  const at = plan.steps.findIndex((s) => s.kind === 'ns.join' && s.args.ns === 'pid');
  const later = [...plan.steps];
  later.splice(at + 3, 0, later.splice(at, 1)[0]);
  const moved = parsePlan(printPlan({ ...plan, steps: later.map((s, i) => ({ ...s, n: i + 1 })) }));
  assert.match(
    refusal(moved),
    /^step \d+ ns\.join: a pid namespace is joined before the clone: it must be the first init step \(a user namespace.s before a pid namespace.s\)$/,
  );
  const mount = parsePlan(
    printPlan({
      ...plan,
      steps: plan.steps.map((s, i) => (i === at ? ({ ...s, args: { ns: 'mount', path: '/proc/1/ns/mnt' } } as Step) : s)),
    }),
  );
  assert.match(refusal(mount), /^step \d+ ns\.join: ns must be one of user, pid, uts, ipc, time, network, cgroup$/);
});

test.run();
