// A step-level diff of two plans: which steps were added, removed or changed,
// matched by what they act on (a mount's destination, a cgroup key, an
// rlimit's type, a path), not by their number or position. A step that only
// moved, or whose source position changed (a comment added above it), is the
// same step: a reviewer cares about what the kernel will be asked to do.
//
// Pure functions over parsed Plans, shared by `ctc diff`, `ctc check` and the
// risk notes (risk.ts).

import { type ArgValue, type KindSpec, type Plan, type Step, type StepKind, stepKinds } from '../../plan/steps.ts';

/**
 * The arguments that say which thing a step acts on. A kind not listed
 * happens once per plan (the capability sets, the seccomp filter, the
 * hostname): its identity is its kind, and any argument change is "changed".
 */
const identityArgs: Partial<Record<StepKind, readonly string[]>> = {
  'cgroup.limit': ['key'],
  'mount.propagation': ['path'],
  'net.up': ['dev'],
  'net.bridge': ['name'],
  'net.ipam': ['dev'],
  'net.veth': ['peer'],
  'net.addr': ['dev', 'addr'],
  'net.route': ['dst'],
  'ns.join': ['ns'],
  'state.file': ['name'],
  'rootfs.mirror': ['path'],
  'fs.mkdir': ['path'],
  'fs.write': ['path'],
  'fs.symlink': ['path'],
  'dev.node': ['path'],
  'mount.fs': ['dst'],
  'mount.bind': ['dst'],
  'mount.cgroup': ['dst'],
  'proc.sysctl': ['key'],
  'fs.mask': ['path'],
  'fs.readonly': ['path'],
  'proc.rlimit': ['type'],
};

export type ChangeType = 'added' | 'removed' | 'changed';

/** One argument of a changed step; for lists, what entered and what left. */
export interface ArgChange {
  name: string;
  old?: ArgValue;
  new?: ArgValue;
  added?: (string | number)[];
  removed?: (string | number)[];
}

export interface Change {
  type: ChangeType;
  kind: StepKind;
  /** the identity both sides share: `mount.bind /host`, `proc.caps` */
  key: string;
  old?: Step;
  new?: Step;
  /** for a changed step, the arguments that differ */
  args?: ArgChange[];
}

export interface PlanDiff {
  changes: Change[];
  counts: Record<ChangeType, number>;
}

const argSpecs = (kind: StepKind) => (stepKinds[kind] as KindSpec).args;
const isEmpty = (v: ArgValue | undefined) => v === undefined || v === '' || (Array.isArray(v) && v.length === 0);

/** `mount.bind /host`; a second step with the same identity gets `#2`, and so on. */
function keysOf(steps: Step[]): Map<string, Step> {
  const seen = new Map<string, number>();
  const keyed = new Map<string, Step>();
  for (const step of steps) {
    const ids = (identityArgs[step.kind] ?? []).map((name) => String(step.args[name] ?? ''));
    const base = [step.kind, ...ids].join(' ');
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    keyed.set(count === 1 ? base : `${base} #${count}`, step);
  }
  return keyed;
}

/** An optional argument left out and one given empty are the same: the plan text does not tell them apart. */
const canonical = (v: ArgValue | undefined): string => (isEmpty(v) ? '' : JSON.stringify(v));

function argChanges(a: Step, b: Step): ArgChange[] {
  const changes: ArgChange[] = [];
  for (const { name } of argSpecs(a.kind)) {
    const [o, n] = [a.args[name], b.args[name]];
    if (canonical(o) === canonical(n)) continue;
    const change: ArgChange = { name, ...(o === undefined ? {} : { old: o }), ...(n === undefined ? {} : { new: n }) };
    if (Array.isArray(o) || Array.isArray(n)) {
      const [os, ns] = [(o ?? []) as (string | number)[], (n ?? []) as (string | number)[]];
      change.added = ns.filter((x) => !os.includes(x));
      change.removed = os.filter((x) => !ns.includes(x));
    }
    changes.push(change);
  }
  return changes;
}

export function diffPlans(oldPlan: Plan, newPlan: Plan): PlanDiff {
  const [olds, news] = [keysOf(oldPlan.steps), keysOf(newPlan.steps)];
  const changes: Change[] = [];
  // In the new plan's order, then what the new plan no longer has, in the old plan's order.
  for (const [key, step] of news) {
    const before = olds.get(key);
    if (!before) changes.push({ type: 'added', kind: step.kind, key, new: step });
    else {
      const args = argChanges(before, step);
      if (args.length) changes.push({ type: 'changed', kind: step.kind, key, old: before, new: step, args });
    }
  }
  for (const [key, step] of olds) if (!news.has(key)) changes.push({ type: 'removed', kind: step.kind, key, old: step });
  const counts = { added: 0, removed: 0, changed: 0 };
  for (const c of changes) counts[c.type]++;
  return { changes, counts };
}

/** Where a removed step would have been in the new plan: the new position of the nearest old step before (or after) it that is still there. */
export function nearestNewStep(oldPlan: Plan, newPlan: Plan, removed: Step): Step | undefined {
  const [olds, news] = [keysOf(oldPlan.steps), keysOf(newPlan.steps)];
  const keyOf = new Map([...olds].map(([k, s]) => [s, k]));
  const i = oldPlan.steps.indexOf(removed);
  if (i < 0) return undefined;
  const sameKind = newPlan.steps.find((s) => s.kind === removed.kind);
  if (sameKind) return sameKind;
  for (let d = 1; d < oldPlan.steps.length; d++) {
    for (const j of [i - d, i + d]) {
      const survivor = oldPlan.steps[j] && news.get(keyOf.get(oldPlan.steps[j])!);
      if (survivor) return survivor;
    }
  }
  return undefined;
}
