// Risk notes: the changes in a plan diff that widen what the container may do
// (a capability gained, a syscall filter loosened, a host path mounted, a
// namespace shared with the host, a limit lifted). A reviewer reads these
// first. One rule per kind of change, in a table; each is a pure function of
// the diff and the two plans, so lint and other tools can reuse them.

import { capabilityNumbers } from '../../stdlib/capabilities.ts';
import { type Change, type PlanDiff, nearestNewStep } from './diff.ts';
import { type Plan, type Step, type StepKind, int, list, str } from '../../plan/steps.ts';

export type RiskCode =
  | 'RISK_CAP_ADDED'
  | 'RISK_CAP_ALL'
  | 'RISK_SECCOMP_REMOVED'
  | 'RISK_SECCOMP_LOOSENED'
  | 'RISK_MASK_REMOVED'
  | 'RISK_READONLY_REMOVED'
  | 'RISK_HOST_MOUNT'
  | 'RISK_MOUNT_RW'
  | 'RISK_NS_REMOVED'
  | 'RISK_DEVICE_ALLOWED'
  | 'RISK_ROOT_NO_USERNS'
  | 'RISK_NO_NEW_PRIVS_REMOVED'
  | 'RISK_LSM_REMOVED'
  | 'RISK_LIMIT_RAISED'
  | 'RISK_LIMIT_REMOVED'
  | 'RISK_PORT_PUBLISHED'
  | 'RISK_NETNS_JOINED'
  | 'RISK_HOOK_ADDED';

/**
 * Where a note points: the new side's step (`new-step`); for a removal, the
 * new side's nearest step (`new-nearby`: a step of the same kind, or the new
 * position of the step that came before it); else the old side's step.
 */
export type RiskLocation = 'new-step' | 'new-nearby' | 'old-step';

export interface RiskNote {
  code: RiskCode;
  message: string;
  /** file:line:col */
  source?: string;
  at: RiskLocation;
  /** the change it is about (diff.ts keys) */
  kind: StepKind;
  key: string;
}

interface Finding {
  message: string;
  change: Change;
}

export interface RiskContext {
  diff: PlanDiff;
  old: Plan;
  new: Plan;
}

export interface RiskRule {
  code: RiskCode;
  /** what the rule looks for, for docs and --help */
  doc: string;
  find: (ctx: RiskContext) => Finding[];
}

const changesOf = (ctx: RiskContext, type: Change['type'] | '*', ...kinds: StepKind[]) =>
  ctx.diff.changes.filter((c) => (type === '*' || c.type === type) && kinds.includes(c.kind));
const argChange = (c: Change, name: string) => c.args?.find((a) => a.name === name);
const stepOf = (plan: Plan, kind: StepKind) => plan.steps.find((s) => s.kind === kind);

// ── capabilities ────────────────────────────────────────────────────────────

/** Why some capabilities deserve more than their name. */
const capabilityWhy: Partial<Record<string, string>> = {
  CAP_SYS_ADMIN: 'mounts, namespaces, BPF and much of what root can do to the kernel',
  CAP_SYS_MODULE: 'loads kernel modules: the host kernel',
  CAP_SYS_PTRACE: 'traces and reads the memory of other processes',
  CAP_SYS_RAWIO: 'raw I/O ports and /dev/mem',
  CAP_NET_ADMIN: 'reconfigures network interfaces, routes and firewalls',
  CAP_DAC_READ_SEARCH: 'open_by_handle_at, the "shocker" escape',
  CAP_BPF: 'loads BPF programs',
  CAP_SYS_BOOT: 'reboots the host',
  CAP_SYS_TIME: "sets the host's clock",
};

const capSets = { 'proc.bounding': ['caps'], 'proc.caps': ['effective', 'permitted', 'inheritable', 'ambient'] } as const;

function capabilitiesAdded(ctx: RiskContext): Finding[] {
  const gained = new Map<string, { sets: string[]; change: Change }>();
  // An added step (a new container, diffed against the empty plan) gains all it holds.
  const gainedIn = (c: Change, set: string) => (c.type === 'added' ? list(c.new!, set) : (argChange(c, set)?.added ?? []));
  for (const c of changesOf(ctx, '*', 'proc.bounding', 'proc.caps').filter((x) => x.type !== 'removed')) {
    for (const set of capSets[c.kind as keyof typeof capSets]) {
      for (const cap of gainedIn(c, set)) {
        const g = gained.get(String(cap)) ?? { sets: [], change: c };
        g.sets.push(set === 'caps' ? 'bounding' : set);
        // proc.caps names the capabilities of the process itself: point there when it changed.
        if (c.kind === 'proc.caps') g.change = c;
        gained.set(String(cap), g);
      }
    }
  }
  return [...gained].map(([cap, { sets, change }]) => ({
    message: `capability ${cap} added (${sets.join(', ')})${capabilityWhy[cap] ? `: ${capabilityWhy[cap]}` : ''}`,
    change,
  }));
}

const everyCapability = Object.keys(capabilityNumbers);
const hasAll = (s: Step | undefined) => s !== undefined && everyCapability.every((c) => list(s, 'caps').includes(c));

function allCapabilities(ctx: RiskContext): Finding[] {
  // No bounding step: ctc leaves the process with every capability root has.
  const dropped = changesOf(ctx, 'removed', 'proc.bounding').map((change) => ({
    message: 'the capability sets are no longer restricted: the process keeps every capability of root',
    change,
  }));
  const widened = changesOf(ctx, '*', 'proc.bounding')
    .filter((c) => c.type !== 'removed' && hasAll(c.new) && !hasAll(c.old))
    .map((change) => ({ message: 'every capability is in the bounding set: the container is privileged', change }));
  return [...dropped, ...widened];
}

// ── seccomp ─────────────────────────────────────────────────────────────────

/** How much a seccomp action lets through, most first. */
const actionRank: Record<string, number> = { allow: 0, log: 1, notify: 2, trace: 2, trap: 3, errno: 3, kill_thread: 4, kill_process: 5 };
const rankOf = (actionText: string) => actionRank[actionText.split(/[: ]/)[0]] ?? 3;

function seccompRemoved(ctx: RiskContext): Finding[] {
  return changesOf(ctx, 'removed', 'proc.seccomp').map((change) => ({
    message: 'the seccomp filter is gone: every syscall is allowed (unconfined)',
    change,
  }));
}

function seccompLoosened(ctx: RiskContext): Finding[] {
  return changesOf(ctx, 'changed', 'proc.seccomp').flatMap((change) => {
    const why: string[] = [];
    const def = argChange(change, 'default');
    if (def && rankOf(String(def.new)) < rankOf(String(def.old))) why.push(`the default action is now ${def.new} (was ${def.old})`);
    const rules = argChange(change, 'rules');
    for (const r of rules?.added ?? []) if (rankOf(String(r)) <= actionRank.log) why.push(`rule added: ${r}`);
    for (const r of rules?.removed ?? []) if (rankOf(String(r)) > actionRank.log) why.push(`rule removed: ${r}`);
    if (argChange(change, 'flags')?.added?.includes('spec_allow')) why.push('spec_allow turns off speculative-execution mitigations');
    return why.length ? [{ message: `seccomp loosened: ${why.join('; ')}`, change }] : [];
  });
}

// ── paths and mounts ────────────────────────────────────────────────────────

function maskRemoved(ctx: RiskContext): Finding[] {
  return changesOf(ctx, 'removed', 'fs.mask').map((change) => ({
    message: `${str(change.old!, 'path')} is no longer masked: the container can read it`,
    change,
  }));
}

function readonlyRemoved(ctx: RiskContext): Finding[] {
  return changesOf(ctx, 'removed', 'fs.readonly').map((change) => ({
    message: `${str(change.old!, 'path')} is no longer read-only: the container can write to it`,
    change,
  }));
}

const readWrite = (s: Step) => (list(s, 'flags').includes('ro') ? 'read-only' : 'read-write');

function hostMounts(ctx: RiskContext): Finding[] {
  const binds = changesOf(ctx, '*', 'mount.bind')
    .filter((c) => c.type === 'added' || (c.type === 'changed' && argChange(c, 'src')))
    .filter((c) => !str(c.new!, 'src').startsWith('{state}/')) // files ctc wrote (state.file), not the host's
    .map((change) => ({
      message: `mounts the host's ${str(change.new!, 'src')} at ${str(change.new!, 'dst')} ${readWrite(change.new!)}`,
      change,
    }));
  const mirrors = changesOf(ctx, 'added', 'rootfs.mirror').map((change) => ({
    message: `mirrors the host's ${str(change.new!, 'path')} into the root (read-only)`,
    change,
  }));
  const roots = changesOf(ctx, '*', 'rootfs.bind')
    .filter((c) => c.type !== 'removed')
    .filter((c) => !str(c.new!, 'dir').startsWith('{root}/@images/')) // an image ctc unpacked (image.unpack), not the host's
    .map((change) => ({ message: `the root is the host directory ${str(change.new!, 'dir')}`, change }));
  return [...binds, ...mirrors, ...roots];
}

function mountsReadWrite(ctx: RiskContext): Finding[] {
  const remounted = changesOf(ctx, 'changed', 'mount.bind', 'mount.fs', 'mount.cgroup')
    .filter((c) => argChange(c, 'flags')?.removed?.includes('ro') || argChange(c, 'flags')?.added?.includes('rw'))
    .map((change) => ({ message: `${str(change.new!, 'dst')} is now mounted read-write`, change }));
  const root = changesOf(ctx, 'removed', 'rootfs.readonly').map((change) => ({
    message: 'the root filesystem is no longer read-only',
    change,
  }));
  return [...remounted, ...root];
}

// ── namespaces, devices, users ──────────────────────────────────────────────

/** Namespaces of its own, made or joined by path (a joined one is RISK_NETNS_JOINED's, not the host's). */
const namespacesOf = (plan: Plan) =>
  plan.steps.flatMap((s) =>
    s.kind === 'ns.clone' || s.kind === 'ns.unshare' ? list(s, 'ns') : s.kind === 'ns.join' ? [str(s, 'ns')] : [],
  );

function namespacesRemoved(ctx: RiskContext): Finding[] {
  const now = namespacesOf(ctx.new);
  const lost = namespacesOf(ctx.old).filter((ns) => !now.includes(ns));
  const change = changesOf(ctx, '*', 'ns.clone', 'ns.unshare').find((c) => c.old && list(c.old, 'ns').some((ns) => lost.includes(ns)));
  if (!change) return [];
  return lost.map((ns) => ({ message: `no new ${ns} namespace: the container shares the host's`, change }));
}

function devicesAllowed(ctx: RiskContext): Finding[] {
  const rules = changesOf(ctx, '*', 'cgroup.devices').flatMap((change) => {
    if (change.type === 'removed') return [{ message: 'no device rules: the cgroup allows every device', change }];
    const args = argChange(change, 'rules');
    const allowed = (args?.added ?? []).filter((r) => String(r).startsWith('allow'));
    const lifted = (args?.removed ?? []).filter((r) => String(r).startsWith('deny'));
    return change.type === 'changed' && (allowed.length || lifted.length)
      ? [{ message: `device rules widened: ${[...allowed, ...lifted.map((r) => `no longer ${r}`)].join('; ')}`, change }]
      : [];
  });
  const nodes = changesOf(ctx, 'added', 'dev.node').map((change) => {
    const s = change.new!;
    return { message: `creates the device node ${str(s, 'path')} (${str(s, 'type')} ${int(s, 'major')}:${int(s, 'minor')})`, change };
  });
  return [...rules, ...nodes];
}

const isRoot = (plan: Plan) => {
  const user = stepOf(plan, 'proc.user');
  const root = user !== undefined && (user.args.uid === 0 || str(user, 'name') === 'root');
  return root && !namespacesOf(plan).includes('user');
};

function rootWithoutUserns(ctx: RiskContext): Finding[] {
  if (!isRoot(ctx.new) || isRoot(ctx.old)) return [];
  const change = changesOf(ctx, '*', 'proc.user', 'ns.clone', 'ns.unshare').find((c) => c.new);
  return change ? [{ message: 'the process runs as uid 0 without a user namespace: root on the host', change }] : [];
}

function noNewPrivsRemoved(ctx: RiskContext): Finding[] {
  return changesOf(ctx, 'removed', 'proc.no-new-privs').map((change) => ({
    message: 'no_new_privs is off: setuid programs and file capabilities can raise privileges',
    change,
  }));
}

function lsmRemoved(ctx: RiskContext): Finding[] {
  return changesOf(ctx, 'removed', 'proc.apparmor', 'proc.selinux').map((change) => ({
    message: `the ${change.kind === 'proc.apparmor' ? 'AppArmor profile' : 'SELinux label'} is gone`,
    change,
  }));
}

// ── limits ──────────────────────────────────────────────────────────────────

/** The cgroup keys where a bigger value lets the container use more. */
const ceilingKeys = new Set(['memory.limit', 'memory.swap', 'pids.limit', 'cpu.max', 'hugetlb.limit', 'rdma.max']);

/** A limit as a number, Infinity for none; undefined when it is not a plain amount. */
function amount(key: string, value: string): number | undefined {
  if (['max', 'unlimited', '-1'].includes(value)) return Infinity;
  if (key === 'cpu.max') {
    const [quota, period] = value.split(' ');
    return quota === 'max' ? Infinity : Number(quota) / Number(period || 100000);
  }
  const last = Number(value.split(' ').pop());
  return Number.isFinite(last) ? last : undefined;
}

const raised = (key: string, o: string, n: string) => {
  const [a, b] = [amount(key, o), amount(key, n)];
  return a !== undefined && b !== undefined && b > a;
};

function limitsRaised(ctx: RiskContext): Finding[] {
  const cgroup = changesOf(ctx, 'changed', 'cgroup.limit')
    .filter((c) => ceilingKeys.has(str(c.new!, 'key')) && raised(str(c.new!, 'key'), str(c.old!, 'value'), str(c.new!, 'value')))
    .map((change) => ({
      message: `${str(change.new!, 'key')} raised from ${str(change.old!, 'value')} to ${str(change.new!, 'value')}`,
      change,
    }));
  const rlimits = changesOf(ctx, 'changed', 'proc.rlimit')
    .filter((c) => ['soft', 'hard'].some((k) => raised('', str(c.old!, k), str(c.new!, k))))
    .map((change) => {
      const [o, n] = [change.old!, change.new!];
      return {
        message: `${str(n, 'type')} raised from ${str(o, 'soft')}/${str(o, 'hard')} to ${str(n, 'soft')}/${str(n, 'hard')}`,
        change,
      };
    });
  return [...cgroup, ...rlimits];
}

function limitsRemoved(ctx: RiskContext): Finding[] {
  const cgroup = changesOf(ctx, 'removed', 'cgroup.limit')
    .filter((c) => ceilingKeys.has(str(c.old!, 'key')))
    .map((change) => ({ message: `the ${str(change.old!, 'key')} limit (${str(change.old!, 'value')}) is gone`, change }));
  const rlimits = changesOf(ctx, 'removed', 'proc.rlimit').map((change) => ({
    message: `the ${str(change.old!, 'type')} rlimit is gone: the process inherits ctc's`,
    change,
  }));
  return [...cgroup, ...rlimits];
}

// ── the table ───────────────────────────────────────────────────────────────

export const riskRules: readonly RiskRule[] = [
  { code: 'RISK_CAP_ADDED', doc: 'a capability added to any set', find: capabilitiesAdded },
  { code: 'RISK_CAP_ALL', doc: 'every capability, or no capability restriction at all', find: allCapabilities },
  { code: 'RISK_SECCOMP_REMOVED', doc: 'the seccomp filter removed (unconfined)', find: seccompRemoved },
  {
    code: 'RISK_SECCOMP_LOOSENED',
    doc: 'a seccomp rule that allows added, one that denies removed, a weaker default',
    find: seccompLoosened,
  },
  { code: 'RISK_MASK_REMOVED', doc: 'a masked path no longer masked', find: maskRemoved },
  { code: 'RISK_READONLY_REMOVED', doc: 'a read-only path no longer read-only', find: readonlyRemoved },
  { code: 'RISK_HOST_MOUNT', doc: 'a host path mounted (bind, mirror, root directory)', find: hostMounts },
  { code: 'RISK_MOUNT_RW', doc: 'a mount, or the root, now read-write', find: mountsReadWrite },
  { code: 'RISK_NS_REMOVED', doc: "a namespace no longer created: the host's is shared", find: namespacesRemoved },
  { code: 'RISK_DEVICE_ALLOWED', doc: 'a device allowed by the cgroup rules, or a device node created', find: devicesAllowed },
  { code: 'RISK_ROOT_NO_USERNS', doc: 'uid 0 without a user namespace, newly', find: rootWithoutUserns },
  { code: 'RISK_NO_NEW_PRIVS_REMOVED', doc: 'no_new_privs turned off', find: noNewPrivsRemoved },
  { code: 'RISK_LSM_REMOVED', doc: 'an AppArmor profile or SELinux label removed', find: lsmRemoved },
  { code: 'RISK_LIMIT_RAISED', doc: 'a memory, pids, CPU or rlimit ceiling raised', find: limitsRaised },
  { code: 'RISK_LIMIT_REMOVED', doc: 'such a limit removed', find: limitsRemoved },
  { code: 'RISK_PORT_PUBLISHED', doc: "a port of the host forwarded to the container's", find: portsPublished },
  {
    code: 'RISK_NETNS_JOINED',
    doc: "an existing namespace joined by path (user, network, pid, ipc, uts, time, cgroup): the host's or another container's, shared",
    find: nsJoined,
  },
  { code: 'RISK_HOOK_ADDED', doc: 'a hook added or changed: a program run as root on the host or in the container', find: hooksAdded },
];

function hooksAdded(ctx: RiskContext): Finding[] {
  return changesOf(ctx, '*', 'hook.run')
    .filter((change) => change.type !== 'removed')
    .map((change) => ({ message: `runs ${str(change.new!, 'path')} as root (${str(change.new!, 'when')} hook)`, change }));
}

function portsPublished(ctx: RiskContext): Finding[] {
  return changesOf(ctx, '*', 'net.publish').flatMap((change) => {
    const ports = change.type === 'added' ? list(change.new!, 'ports') : ((argChange(change, 'ports')?.added ?? []) as string[]);
    return ports.map((p) => ({ message: `publishes ${p}: whoever reaches the host's port reaches the container`, change }));
  });
}

/** What a container shares with whoever else is in a namespace it joins (the host, another container). */
const sharedBy: Record<string, string> = {
  network: 'its interfaces, addresses and ports',
  pid: 'its processes, which the container sees and, as root, can signal and trace',
  ipc: 'its shared memory, semaphores and message queues',
  uts: 'its hostname, which the container can change',
  time: 'its clock offsets',
  cgroup: 'its view of the cgroup tree',
  user: "its id maps: the container's root is whoever that namespace's root is on the host (the host's root, if it is the host's)",
};

function nsJoined(ctx: RiskContext): Finding[] {
  return changesOf(ctx, '*', 'ns.join')
    .filter((c) => c.type !== 'removed')
    .map((change) => {
      const [ns, path] = [str(change.new!, 'ns'), str(change.new!, 'path')];
      return {
        message: `joins the ${ns} namespace ${path} (the host's or another container's): it shares ${sharedBy[ns] ?? 'whatever is in it'}`,
        change,
      };
    });
}

function locate(ctx: RiskContext, change: Change): Pick<RiskNote, 'source' | 'at'> {
  if (change.new) return { source: change.new.source, at: 'new-step' };
  const near = nearestNewStep(ctx.old, ctx.new, change.old!);
  if (near?.source) return { source: near.source, at: 'new-nearby' };
  return { source: change.old!.source, at: 'old-step' };
}

/** Every risk note of a diff, in the table's order. */
export function riskNotes(diff: PlanDiff, oldPlan: Plan, newPlan: Plan): RiskNote[] {
  const ctx: RiskContext = { diff, old: oldPlan, new: newPlan };
  return riskRules.flatMap(({ code, find }) =>
    find(ctx).map(({ message, change }) => ({ code, message, ...locate(ctx, change), kind: change.kind, key: change.key })),
  );
}
