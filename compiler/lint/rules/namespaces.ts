import { defineRule, firstOf, stepsOf } from '../rule.ts';

export const userNamespaceRequired = defineRule({
  id: 'user-namespace-required',
  description: "the container runs in its own user namespace, so its root is not the host's root",
  options: {},
  *check(plan) {
    const created = [...stepsOf(plan, 'ns.clone'), ...stepsOf(plan, 'ns.unshare')].some((s) => s.args.ns.includes('user'));
    if (!created) {
      yield {
        message: "the container shares the host's user namespace: uid 0 inside is uid 0 on the host",
        step: firstOf(plan, 'ns.clone'),
      };
    }
  },
});
