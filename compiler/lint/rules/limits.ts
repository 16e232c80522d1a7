import type { Plan } from '../../../plan/steps.ts';
import { defineRule, firstOf, stepsOf } from '../rule.ts';

const limitDoc = (what: string, unit: string) =>
  `true: a ${what} limit is required; a number: required, and at most this many ${unit}; false: not required`;

/** The cgroup limit a plan sets for a key, if any; -1 and "max" mean none. */
function limitOf(plan: Plan, key: string) {
  const step = stepsOf(plan, 'cgroup.limit').find((s) => s.args.key === key);
  const value = step?.args.value;
  return step && value !== '-1' && value !== 'max' ? { step, value: Number(value) } : undefined;
}

/** CPU time as a fraction of one CPU, from cpu.max's "quota period". */
function cpuOf(plan: Plan) {
  const step = stepsOf(plan, 'cgroup.limit').find((s) => s.args.key === 'cpu.max');
  const [quota, period] = (step?.args.value ?? '').split(' ');
  return step && quota !== 'max' ? { step, value: Number(quota) / Number(period) } : undefined;
}

export const limitsRequired = defineRule({
  id: 'limits-required',
  description: 'the container has resource limits, so it cannot starve the host (memory and pids by default)',
  options: {
    memory: { type: 'boolean|number', default: true, doc: limitDoc('memory', 'bytes') },
    pids: { type: 'boolean|number', default: true, doc: limitDoc('pids', 'processes') },
    cpu: { type: 'boolean|number', default: false, doc: limitDoc('CPU (cpu.max quota)', 'CPUs') },
  },
  *check(plan, options) {
    const cgroup = firstOf(plan, 'cgroup.create');
    const wanted = [
      ['memory', limitOf(plan, 'memory.limit'), options.memory, 'bytes', 'it may use all of the host memory'],
      ['pids', limitOf(plan, 'pids.limit'), options.pids, 'processes', 'a fork bomb inside reaches the host'],
      ['cpu', cpuOf(plan), options.cpu, 'CPUs', 'it may use every CPU'],
    ] as const;
    for (const [what, found, want, unit, why] of wanted) {
      if (want === false) continue;
      if (!found) yield { message: `no ${what} limit: ${why}`, step: cgroup };
      else if (typeof want === 'number' && found.value > want) {
        yield { message: `the ${what} limit is ${found.value} ${unit}, above the policy's ${want}`, step: found.step };
      }
    }
  },
});
