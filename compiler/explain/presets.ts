// Which stdlib preset a step came from, for `ctc explain`. A plan records the
// source position of what caused each step, not which preset a value was
// taken from, so this compares the step's arguments with the presets' own
// values (the same modules the frontend reads its defaults from). A match
// says the values are the preset's; whether the source spread it, left the
// field out (the default), or wrote the same values by hand, the caller
// tells apart only by reading the source line.

import { isDataOption } from '../../plan/mount-options.ts';
import type { Plan, Step, StepKind, StepOf } from '../../plan/steps.ts';
import { compileSeccomp, seccompDigest } from '../../plan/seccomp/bpf.ts';
import { seccompSpecOf } from '../seccomp/policy.ts';
import { defaultCapabilities } from '../../stdlib/capabilities.ts';
import { defaultDevices, defaultDevLinks } from '../../stdlib/devices.ts';
import { defaultMounts } from '../../stdlib/mounts.ts';
import { defaultNamespaces } from '../../stdlib/namespaces.ts';
import { maskedPaths, readonlyPaths } from '../../stdlib/paths.ts';
import { hostRootfs } from '../../stdlib/rootfs.ts';
import { defaultSeccomp } from '../../stdlib/seccomp.ts';

export interface PresetMatch {
  /** the name as a source writes it: `defaultMounts`, `maskedPaths.default` */
  name: string;
  /** how the step relates to it */
  detail: string;
  /** the names a source line would show if it used the preset */
  mentions: string[];
}

type Matchers = { [K in StepKind]?: (s: StepOf<K>, plan: Plan) => PresetMatch | undefined };

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));
const allOf = <K extends StepKind>(plan: Plan, kind: K) => plan.steps.filter((s) => s.kind === kind) as unknown as StepOf<K>[];

/** The mount from defaultMounts a mount step was lowered from, by destination, type and options. */
function defaultMountFor(dst: string, type: string, flags: readonly string[] = [], data = '') {
  const i = defaultMounts.findIndex((m) => {
    const cgroup = (m.type === 'cgroup' || m.type === 'cgroup2') && type === 'cgroup';
    const opts = m.options ?? [];
    return (
      m.destination === dst &&
      (cgroup || (m.type === type && opts.filter(isDataOption).join(',') === data)) &&
      sameSet(
        opts.filter((o) => !isDataOption(o)),
        flags,
      )
    );
  });
  return i < 0 ? undefined : { name: 'defaultMounts', detail: `defaultMounts[${i}], the ${dst} mount`, mentions: ['defaultMounts'] };
}

/** A list preset: the step's value is one of its entries; the plan's steps of this kind are exactly the list, or not. */
function listEntry(name: string, preset: readonly string[], value: string, all: readonly string[]): PresetMatch | undefined {
  if (!preset.includes(value)) return undefined;
  const exact = sameSet(preset, all)
    ? `; the plan has exactly its ${preset.length} entries`
    : `; the plan's list differs from it (${all.length} entries, the preset has ${preset.length})`;
  return { name, detail: `${value} is one of its entries${exact}`, mentions: [name.split('.')[0]] };
}

function capabilitiesMatch(caps: readonly string[], what: string): PresetMatch | undefined {
  const added = caps.filter((c) => !defaultCapabilities.includes(c as never));
  const dropped = defaultCapabilities.filter((c) => !caps.includes(c));
  if (!added.length && !dropped.length)
    return { name: 'defaultCapabilities', detail: `the ${what} is exactly defaultCapabilities`, mentions: ['defaultCapabilities'] };
  if (added.length + dropped.length > 4 || caps.length === 0) return undefined;
  const change = [added.length ? `plus ${added.join(', ')}` : '', dropped.length ? `without ${dropped.join(', ')}` : '']
    .filter(Boolean)
    .join(' and ');
  return {
    name: 'defaultCapabilities',
    detail: `the ${what} is defaultCapabilities ${change}`,
    mentions: ['defaultCapabilities', 'capabilities.'],
  };
}

let defaultSeccompDigest: string | undefined;

const matchers: Matchers = {
  'mount.fs': ({ args }) => defaultMountFor(args.dst, args.type, args.flags, args.data),
  'mount.cgroup': ({ args }) => defaultMountFor(args.dst, 'cgroup', args.flags),
  'dev.node': ({ args }) =>
    defaultDevices.some((d) => d.path === args.path && d.major === args.major && d.minor === args.minor)
      ? {
          name: 'defaultDevices',
          detail: `${args.path} is one of defaultDevices, made in every fresh /dev (a tmpfs mounted at /dev, as defaultMounts has)`,
          mentions: ['defaultMounts', 'defaultDevices'],
        }
      : undefined,
  'fs.symlink': ({ args }) =>
    defaultDevLinks[args.path] === args.target
      ? {
          name: 'defaultDevLinks',
          detail: `${args.path} is one of defaultDevLinks, made in every fresh /dev (a tmpfs mounted at /dev, as defaultMounts has)`,
          mentions: ['defaultMounts', 'defaultDevLinks'],
        }
      : undefined,
  'fs.mask': ({ args }, plan) =>
    listEntry(
      'maskedPaths.default',
      maskedPaths.default,
      args.path,
      allOf(plan, 'fs.mask').map((s) => s.args.path),
    ),
  'fs.readonly': ({ args }, plan) =>
    listEntry(
      'readonlyPaths.default',
      readonlyPaths.default,
      args.path,
      allOf(plan, 'fs.readonly').map((s) => s.args.path),
    ),
  'ns.clone': (_s, plan) => namespacesMatch(plan),
  'ns.unshare': (_s, plan) => namespacesMatch(plan),
  'cgroup.devices': ({ args }) =>
    args.rules[0] === 'deny a *:* rwm'
      ? {
          name: 'defaultDeviceRules',
          detail: 'the rules start with defaultDeviceRules (deny every device); the allows after it are the devices every container keeps',
          mentions: ['defaultDeviceRules'],
        }
      : undefined,
  'proc.bounding': ({ args }) => capabilitiesMatch(args.caps, 'bounding set'),
  'proc.caps': ({ args }) => capabilitiesMatch(args.permitted, 'permitted set'),
  'proc.seccomp': ({ args }) => {
    defaultSeccompDigest ??= seccompDigest(compileSeccomp(seccompSpecOf(defaultSeccomp)));
    return args.sha256 === defaultSeccompDigest
      ? { name: 'defaultSeccomp', detail: "the filter's digest is defaultSeccomp's", mentions: ['defaultSeccomp'] }
      : undefined;
  },
  'rootfs.mirror': ({ args }) =>
    hostRootfsEntry(hostRootfs().mirror.includes(args.path), `${args.path} is one of the host paths it mirrors`),
  'fs.mkdir': ({ args }) => hostRootfsEntry(hostRootfs().dirs[args.path] === args.mode, `${args.path} is one of the directories it makes`),
  'fs.write': ({ args }) =>
    hostRootfsEntry(hostRootfs().files[args.path] === args.data, `${args.path} is one of the files it writes, as it writes it`),
};

function hostRootfsEntry(matches: boolean, detail: string): PresetMatch | undefined {
  return matches ? { name: 'hostRootfs()', detail, mentions: ['hostRootfs'] } : undefined;
}

function namespacesMatch(plan: Plan): PresetMatch | undefined {
  const ns = [...allOf(plan, 'ns.clone'), ...allOf(plan, 'ns.unshare')].flatMap((s) => s.args.ns);
  return sameSet(ns, defaultNamespaces)
    ? {
        name: 'defaultNamespaces',
        detail: `the plan's namespaces are exactly defaultNamespaces (${defaultNamespaces.join(', ')})`,
        mentions: ['defaultNamespaces'],
      }
    : undefined;
}

export function presetOf(step: Step, plan: Plan): PresetMatch | undefined {
  const match = matchers[step.kind] as ((s: Step, plan: Plan) => PresetMatch | undefined) | undefined;
  return match?.(step, plan);
}

/**
 * Steps ctc's lowering adds on its own (no preset, no field of the source):
 * what they are there for.
 */
export const derivedSteps: Partial<Record<StepKind, string>> = {
  'state.create': 'every plan starts with it: the journal lives in the state dir',
  'cgroup.join': 'every plan has it: the init joins its cgroup before any container code runs',
  'mount.propagation': 'lowering makes the tree private before building the root, so no mount leaks to the host',
  'net.up': 'lowering brings up loopback in every new network namespace',
  'rootfs.pivot': 'lowering ends every root with it',
};
