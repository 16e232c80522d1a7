import { defineRule, firstOf } from '../rule.ts';

export const seccompRequired = defineRule({
  id: 'seccomp-required',
  description: 'the process runs under a seccomp filter',
  options: {
    denyByDefault: {
      type: 'boolean',
      default: false,
      doc: "also require the filter's default action to refuse (not allow or log) what no rule names",
    },
  },
  *check(plan, { denyByDefault }) {
    const filter = firstOf(plan, 'proc.seccomp');
    if (!filter) {
      yield { message: 'the process runs without a seccomp filter: every system call is open to it', step: firstOf(plan, 'proc.exec') };
      return;
    }
    const action = filter.args.default.split(':')[0];
    if (denyByDefault && (action === 'allow' || action === 'log')) {
      yield { message: `the seccomp filter's default action is ${action}: a system call no rule names is let through`, step: filter };
    }
  },
});
