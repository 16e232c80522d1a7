// The step kinds: the whole vocabulary of a plan, declared once. The printer,
// parser, executor (host actions), wire encoder (init ops) and the README's
// plan section all read this table.

export type ArgType =
  | 'str' // a string; bare when it is plain, JSON-quoted otherwise
  | 'int' // a whole number
  | 'mode' // a file mode, printed in octal (0755)
  | 'names' // a list of plain names, printed comma-separated (flags=ro,nosuid)
  | 'strs' // a list of strings, printed as a JSON array
  | 'ints'; // a list of whole numbers, printed comma-separated

export interface ArgSpec {
  name: string;
  type: ArgType;
  /** may be left out; a left-out list is empty, a left-out string is '' */
  optional?: boolean;
  /** may hold {id} and {state}, filled in when the plan runs */
  placeholders?: boolean;
}

export type Actor = 'host' | 'init';

export interface KindSpec {
  actor: Actor;
  args: readonly ArgSpec[];
  /** the argument that names what the step acts on, for messages */
  subject?: string;
  /** what undoes it on rollback (host steps; init steps vanish with the init) */
  undo?: string;
  doc: string;
}

const a = (name: string, type: ArgType, optional = false): ArgSpec => ({ name, type, optional });
/** A string argument naming a run-time place: the state dir, a cgroup. */
const place = (name: string): ArgSpec => ({ name, type: 'str', placeholders: true });

export const stepKinds = {
  'state.create': {
    actor: 'host',
    args: [place('dir')],
    subject: 'dir',
    undo: 'remove the state dir and what ctc wrote in it',
    doc: 'create the container state dir, which holds the journal',
  },
  'cgroup.create': {
    actor: 'host',
    args: [place('path')],
    subject: 'path',
    undo: 'kill what is left in the cgroup, then remove it',
    doc: 'create the cgroup (every v1 hierarchy, or the v2 tree)',
  },
  'cgroup.limit': {
    actor: 'host',
    args: [place('path'), a('key', 'str'), a('value', 'str')],
    subject: 'key',
    doc: 'set a limit; the cgroup driver maps the key to v1 or v2 files',
  },
  'cgroup.devices': {
    actor: 'host',
    args: [place('path'), a('rules', 'strs')],
    subject: 'path',
    doc: 'set the device rules, in order, last match wins (v1: devices.deny/allow)',
  },
  'ns.clone': {
    actor: 'host',
    args: [a('ns', 'names')],
    subject: 'ns',
    undo: 'kill the init and wait for it',
    doc: 'start ctc-init, which clones the container init into new namespaces; the init waits',
  },
  'cgroup.join': {
    actor: 'host',
    args: [place('path')],
    subject: 'path',
    doc: 'move the waiting init into the cgroup, before any container code runs',
  },
  'proc.oom-score': {
    actor: 'host',
    args: [a('value', 'int')],
    subject: 'value',
    doc: "set the init's oom_score_adj",
  },
  'ns.unshare': {
    actor: 'init',
    args: [a('ns', 'names')],
    subject: 'ns',
    doc: 'unshare more namespaces from inside (cgroup: after joining, so the cgroup is the root)',
  },
  'mount.propagation': {
    actor: 'init',
    args: [a('path', 'str'), a('mode', 'str')],
    subject: 'path',
    doc: 'change mount propagation, so no mount leaks to the host',
  },
  'net.up': {
    actor: 'init',
    args: [a('dev', 'str')],
    subject: 'dev',
    doc: 'bring a network interface up',
  },
  'rootfs.tmpfs': {
    actor: 'init',
    args: [place('dir')],
    subject: 'dir',
    doc: 'mount a fresh tmpfs as the container root',
  },
  'rootfs.bind': {
    actor: 'init',
    args: [a('dir', 'str')],
    subject: 'dir',
    doc: 'bind-mount a prepared directory as the container root',
  },
  'rootfs.mirror': {
    actor: 'init',
    args: [a('path', 'str')],
    subject: 'path',
    doc: "copy the host's path into the root: symlinks as symlinks, the rest as read-only binds; absent paths are skipped",
  },
  'fs.mkdir': {
    actor: 'init',
    args: [a('path', 'str'), a('mode', 'mode')],
    subject: 'path',
    doc: 'create a directory in the root',
  },
  'fs.write': {
    actor: 'init',
    args: [a('path', 'str'), a('mode', 'mode'), a('data', 'str')],
    subject: 'path',
    doc: 'write a file in the root',
  },
  'fs.symlink': {
    actor: 'init',
    args: [a('path', 'str'), a('target', 'str')],
    subject: 'path',
    doc: 'create a symlink in the root',
  },
  'dev.node': {
    actor: 'init',
    args: [a('path', 'str'), a('type', 'str'), a('major', 'int'), a('minor', 'int'), a('mode', 'mode'), a('uid', 'int'), a('gid', 'int')],
    subject: 'path',
    doc: 'create a device node',
  },
  'mount.fs': {
    actor: 'init',
    args: [a('type', 'str'), a('src', 'str'), a('dst', 'str'), a('flags', 'names', true), a('data', 'str', true)],
    subject: 'dst',
    doc: 'mount a filesystem in the root',
  },
  'mount.bind': {
    actor: 'init',
    args: [a('src', 'str'), a('dst', 'str'), a('flags', 'names', true)],
    subject: 'dst',
    doc: 'bind-mount a host path into the root',
  },
  'mount.cgroup': {
    actor: 'init',
    args: [a('dst', 'str'), a('flags', 'names', true), { ...place('path'), optional: true }],
    subject: 'dst',
    doc: "mount the container's cgroups: each v1 hierarchy under a tmpfs, or the v2 tree, as the host has them; with path (no cgroup namespace), the container's own cgroup bound from the host in each, as runc does",
  },
  'rootfs.pivot': {
    actor: 'init',
    args: [],
    doc: 'pivot_root into the root and detach the old one',
  },
  'rootfs.readonly': {
    actor: 'init',
    args: [],
    doc: 'remount the root read-only, once every mount is in place',
  },
  'proc.sysctl': {
    actor: 'init',
    args: [a('key', 'str'), a('value', 'str')],
    subject: 'key',
    doc: "set a namespaced kernel parameter in the container's /proc/sys",
  },
  'fs.mask': {
    actor: 'init',
    args: [a('path', 'str')],
    subject: 'path',
    doc: 'hide a path: an empty read-only tmpfs over a directory, /dev/null over a file; absent paths are skipped',
  },
  'fs.readonly': {
    actor: 'init',
    args: [a('path', 'str')],
    subject: 'path',
    doc: 'make a path read-only (bound onto itself, remounted ro); absent paths are skipped',
  },
  'uts.hostname': {
    actor: 'init',
    args: [a('name', 'str')],
    subject: 'name',
    doc: 'set the hostname',
  },
  'uts.domainname': {
    actor: 'init',
    args: [a('name', 'str')],
    subject: 'name',
    doc: 'set the NIS domain name',
  },
  'proc.tty': {
    actor: 'init',
    args: [a('rows', 'int', true), a('cols', 'int', true)],
    doc: "give the process a new pseudo-terminal as stdio; the master goes to the console socket or to ctc run -t",
  },
  'proc.rlimit': {
    actor: 'init',
    args: [a('type', 'str'), a('soft', 'str'), a('hard', 'str')],
    subject: 'type',
    doc: 'set a resource limit (a number, or unlimited)',
  },
  'proc.umask': {
    actor: 'init',
    args: [a('mask', 'mode')],
    subject: 'mask',
    doc: 'set the file mode creation mask',
  },
  'proc.bounding': {
    actor: 'init',
    args: [a('caps', 'names')],
    subject: 'caps',
    doc: 'drop every capability not listed from the bounding set, for good (needs root: before proc.user)',
  },
  'proc.user': {
    actor: 'init',
    args: [a('uid', 'int', true), a('gid', 'int', true), a('name', 'str', true), a('groups', 'ints', true), a('keepcaps', 'int', true)],
    subject: 'uid',
    doc: "set supplementary groups, gid, then uid (or a user by name, looked up in the container's /etc/passwd and /etc/group when it runs); keepcaps=1 keeps the permitted capabilities across the switch",
  },
  'proc.caps': {
    actor: 'init',
    args: [a('effective', 'names'), a('permitted', 'names'), a('inheritable', 'names'), a('ambient', 'names')],
    doc: 'set the capability sets as the target user, then raise the ambient ones',
  },
  'proc.no-new-privs': {
    actor: 'init',
    args: [],
    doc: 'set no_new_privs: setuid programs and file capabilities gain nothing',
  },
  'proc.apparmor': {
    actor: 'init',
    args: [a('profile', 'str')],
    subject: 'profile',
    doc: 'the AppArmor profile the process enters at exec (refused on a host without AppArmor)',
  },
  'proc.selinux': {
    actor: 'init',
    args: [a('label', 'str')],
    subject: 'label',
    doc: 'the SELinux context the process enters at exec (refused on a host without SELinux)',
  },
  'proc.seccomp': {
    actor: 'init',
    args: [a('default', 'str'), a('arches', 'names'), a('flags', 'names', true), a('rules', 'strs'), a('size', 'int'), a('sha256', 'str')],
    doc: 'load the seccomp filter compiled from these rules (first match decides, else the default); size is its instruction count and sha256 its digest, checked when it runs',
  },
  'proc.pdeathsig': {
    actor: 'init',
    args: [a('signal', 'str')],
    subject: 'signal',
    doc: "the signal the process gets when its parent (ctc's monitor) dies",
  },
  'proc.cwd': {
    actor: 'init',
    args: [a('dir', 'str')],
    subject: 'dir',
    doc: 'change to the working directory',
  },
  'proc.exec': {
    actor: 'init',
    args: [a('args', 'strs'), a('env', 'strs')],
    subject: 'args',
    doc: "execute the container's process (a bare name is searched in its PATH)",
  },
} as const satisfies Record<string, KindSpec>;

export type StepKind = keyof typeof stepKinds;
export type HostKind = { [K in StepKind]: (typeof stepKinds)[K]['actor'] extends 'host' ? K : never }[StepKind];
export type InitKind = Exclude<StepKind, HostKind>;

export type ArgValue = string | number | string[] | number[];

export interface Step {
  /** 1-based position in the plan */
  n: number;
  kind: StepKind;
  args: Record<string, ArgValue>;
  /** file:line:col of what caused it */
  source?: string;
}

export interface Plan {
  version: 1;
  sources: { path: string; sha256: string }[];
  steps: Step[];
}

export const isStepKind = (k: string): k is StepKind => Object.hasOwn(stepKinds, k);
export const actorOf = (kind: StepKind): Actor => stepKinds[kind].actor;

/** What a step acts on, for messages: `/proc`, `memory.limit`. */
export function subjectOf(step: Step): string | undefined {
  const key = (stepKinds[step.kind] as KindSpec).subject;
  const v = key === undefined ? undefined : step.args[key];
  return v === undefined ? undefined : Array.isArray(v) ? v.join(v.length && typeof v[0] === 'number' ? ',' : ' ') : String(v);
}

/** Typed access to a step's arguments. */
export const str = (s: Step, name: string): string => (s.args[name] as string | undefined) ?? '';
export const int = (s: Step, name: string): number => s.args[name] as number;
export const list = (s: Step, name: string): string[] => (s.args[name] as string[] | undefined) ?? [];
export const ints = (s: Step, name: string): number[] => (s.args[name] as number[] | undefined) ?? [];
