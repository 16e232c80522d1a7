// The step kinds: the whole vocabulary of a plan, declared once. The printer,
// parser, executor (host actions), wire encoder (init ops) and docs/plan-format.md's
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
  /** the system calls that apply it, in the order they happen (what `ctc explain` shows) */
  syscalls: readonly string[];
  doc: string;
}

// Generic so the table keeps each argument's literal name and type: StepOf<K> reads them.
function a<const N extends string, const T extends ArgType, const O extends boolean = false>(
  name: N,
  type: T,
  optional?: O,
): { name: N; type: T; optional: O } {
  return { name, type, optional: (optional ?? false) as O };
}
/** A string argument naming a run-time place: the state dir ({state}), the state root ({root}), a cgroup. */
const place = <const N extends string>(name: N) => ({ name, type: 'str' as const, placeholders: true }) satisfies ArgSpec;

export const stepKinds = {
  'state.create': {
    actor: 'host',
    args: [place('dir'), a('annotations', 'strs', true)],
    subject: 'dir',
    undo: 'remove the state dir and what ctc wrote in it',
    syscalls: ['mkdir', 'openat', 'write'],
    doc: "create the container state dir, which holds the journal; the annotations (key=value) go into the container's state, as `ctc state` and hooks see it",
  },
  'image.unpack': {
    actor: 'host',
    args: [a('archive', 'str'), a('digest', 'str')],
    subject: 'archive',
    syscalls: ['openat', 'read', 'mkdir', 'rename'],
    doc: "have the image in the cache under the state root ({root}/@images/<digest>/rootfs): unpacked from the archive (a relative path is the plan's folder's) the first time, its layers in order with whiteouts, owners and modes, nothing outside the root; refused if the archive no longer holds the image the digest names. A cache: kept for the next container",
  },
  'cgroup.create': {
    actor: 'host',
    args: [place('path')],
    subject: 'path',
    undo: 'kill what is left in the cgroup, then remove it',
    syscalls: ['mkdir'],
    doc: 'create the cgroup (every v1 hierarchy, or the v2 tree)',
  },
  'cgroup.limit': {
    actor: 'host',
    args: [place('path'), a('key', 'str'), a('value', 'str')],
    subject: 'key',
    syscalls: ['openat', 'write'],
    doc: 'set a limit; the cgroup driver maps the key to v1 or v2 files',
  },
  'cgroup.devices': {
    actor: 'host',
    args: [place('path'), a('rules', 'strs')],
    subject: 'path',
    syscalls: ['openat', 'write', 'bpf'],
    doc: 'set the device rules, in order, last match wins (v1: devices.deny/allow)',
  },
  'net.bridge': {
    actor: 'host',
    args: [a('name', 'str'), a('mtu', 'int', true), a('addrs', 'strs', true)],
    subject: 'name',
    undo: 'remove the bridge, if ctc made it (ifalias "ctc") and nothing is attached to it any more',
    syscalls: ['socket', 'sendmsg', 'recvmsg'],
    doc: "make a bridge over rtnetlink, with its addresses, and bring it up, marked as ctc's; a link by that name that exists already is used as it is",
  },
  'net.ipam': {
    actor: 'host',
    args: [a('bridge', 'str'), a('dev', 'str'), a('subnets', 'strs')],
    subject: 'dev',
    undo: 'give the addresses back',
    syscalls: ['mkdir', 'openat', 'write'],
    doc: "give the interface the first free address of each of the bridge's subnets: claimed by creating <state root>/ipam/<bridge>/<address> exclusively (O_EXCL), so no two containers get one; later steps name it {ipv4:DEV}, {ipv6:DEV}",
  },
  'state.file': {
    actor: 'host',
    args: [a('name', 'str'), place('data')],
    subject: 'name',
    syscalls: ['openat', 'write'],
    doc: 'write a file into the state dir (generated /etc/hosts, /etc/resolv.conf), for a bind mount; it goes with the state dir',
  },
  'ns.clone': {
    actor: 'host',
    args: [a('ns', 'names')],
    subject: 'ns',
    undo: 'kill the init and wait for it',
    syscalls: ['clone'],
    doc: 'start ctc-init, which clones the container init into new namespaces; the init waits',
  },
  'cgroup.join': {
    actor: 'host',
    args: [place('path')],
    subject: 'path',
    syscalls: ['openat', 'write'],
    doc: 'move the waiting init into the cgroup, before any container code runs',
  },
  'user.map': {
    actor: 'host',
    args: [a('uid', 'strs'), a('gid', 'strs')],
    subject: 'uid',
    syscalls: ['openat', 'write'],
    doc: "write the init's uid_map and gid_map (each line: container id, host id, count); they go with the init",
  },
  'net.veth': {
    actor: 'host',
    args: [
      place('host'),
      a('peer', 'str'),
      a('mtu', 'int', true),
      a('txqlen', 'int', true),
      a('mac', 'str', true),
      a('bridge', 'str', true),
      a('hairpin', 'int', true),
    ],
    subject: 'host',
    undo: 'delete the host end, which deletes the pair',
    syscalls: ['socket', 'sendmsg', 'recvmsg'],
    doc: "make a veth pair over rtnetlink: the host end here (attached to the bridge, hairpin if asked, up), the peer created in the init's network namespace with the MAC; MTU and queue length on both",
  },
  'net.publish': {
    actor: 'host',
    args: [place('table'), { ...place('ports'), type: 'strs' as const }],
    subject: 'table',
    undo: 'delete the table',
    syscalls: ['execve nft', 'socket', 'sendmsg'],
    doc: "publish ports: one nftables table of ctc's own (family inet) whose DNAT rules send connections to a host port, from outside (prerouting) and from the host itself (output), to the container's address",
  },
  'mount.idmap': {
    actor: 'host',
    args: [place('root'), a('src', 'str'), a('dst', 'str'), a('flags', 'names', true)],
    subject: 'dst',
    syscalls: ['setns', 'open_tree', 'mount_setattr', 'openat2', 'move_mount'],
    doc: "bind a host path into the root seen through the container's id mapping (files keep their host owners; what root inside makes is the host's root's): made by the host, in the init's mount namespace, since only it may idmap a host filesystem",
  },
  'proc.oom-score': {
    actor: 'host',
    args: [a('value', 'int')],
    subject: 'value',
    syscalls: ['openat', 'write'],
    doc: "set the init's oom_score_adj",
  },
  'hook.run': {
    actor: 'host',
    args: [a('when', 'str'), a('path', 'str'), a('args', 'strs'), a('env', 'strs', true), a('timeout', 'int', true)],
    subject: 'path',
    undo: 'poststop: run the hook (the container is deleted)',
    syscalls: ['fork', 'setns', 'execve'],
    doc: "run an OCI hook with the container's state as JSON on stdin, and wait for it (killed after timeout seconds): prestart, createRuntime and poststart on the host; createContainer and startContainer in the container's namespaces (ctc-init joins them, then forks the hook); poststop is journaled here and runs when the container is deleted. In create mode startContainer and poststart run at `ctc start`. A failure of any but poststart and poststop stops the container and undoes it",
  },
  'ns.unshare': {
    actor: 'init',
    args: [a('ns', 'names')],
    subject: 'ns',
    syscalls: ['unshare'],
    doc: 'unshare more namespaces from inside (cgroup: after joining, so the cgroup is the root)',
  },
  'user.root': {
    actor: 'init',
    args: [],
    syscalls: ['setgroups', 'setgid', 'setuid'],
    doc: "become root of the user namespace (uid and gid 0 inside, the mapped host ids outside), keeping its capabilities there; from here the host's files are reached as that user",
  },
  'ns.join': {
    actor: 'init',
    args: [a('ns', 'str'), a('path', 'str')],
    subject: 'path',
    syscalls: ['openat', 'setns'],
    doc: 'join an existing namespace by its path, instead of a new one',
  },
  'mount.propagation': {
    actor: 'init',
    args: [a('path', 'str'), a('mode', 'str')],
    subject: 'path',
    syscalls: ['mount'],
    doc: 'change mount propagation, so no mount leaks to the host',
  },
  'net.up': {
    actor: 'init',
    args: [a('dev', 'str')],
    subject: 'dev',
    syscalls: ['socket', 'ioctl'],
    doc: 'bring a network interface up',
  },
  'net.addr': {
    actor: 'init',
    args: [a('dev', 'str'), place('addr')],
    subject: 'addr',
    syscalls: ['socket', 'sendmsg', 'recvmsg'],
    doc: 'add an address to an interface, over rtnetlink (IPv6 without duplicate address detection: it is usable at once)',
  },
  'net.route': {
    actor: 'init',
    args: [a('dst', 'str'), a('gw', 'str', true), a('src', 'str', true), a('dev', 'str', true)],
    subject: 'dst',
    syscalls: ['socket', 'sendmsg', 'recvmsg'],
    doc: 'add a route to the main table, over rtnetlink',
  },
  'rootfs.tmpfs': {
    actor: 'init',
    args: [place('dir')],
    subject: 'dir',
    syscalls: ['mount'],
    doc: 'mount a fresh tmpfs as the container root',
  },
  'rootfs.bind': {
    actor: 'init',
    args: [place('dir')],
    subject: 'dir',
    syscalls: ['mount'],
    doc: 'bind-mount a prepared directory as the container root',
  },
  'rootfs.overlay': {
    actor: 'init',
    args: [place('lower'), place('dir')],
    subject: 'lower',
    syscalls: ['mount', 'mkdirat', 'mount'],
    doc: "a writable root over a read-only one: a tmpfs at dir holds the overlay's upper and work dirs, and the overlay of lower (the image) is mounted at dir/root, the container's root; what the container writes stays in its own memory and goes with it",
  },
  'rootfs.mirror': {
    actor: 'init',
    args: [a('path', 'str')],
    subject: 'path',
    syscalls: ['openat2', 'mount'],
    doc: "copy the host's path into the root: symlinks as symlinks, the rest as read-only binds; absent paths are skipped",
  },
  'fs.mkdir': {
    actor: 'init',
    args: [a('path', 'str'), a('mode', 'mode')],
    subject: 'path',
    syscalls: ['openat2', 'mkdirat', 'fchmod'],
    doc: 'create a directory in the root',
  },
  'fs.write': {
    actor: 'init',
    args: [a('path', 'str'), a('mode', 'mode'), a('data', 'str')],
    subject: 'path',
    syscalls: ['openat2', 'openat', 'write', 'fchmod'],
    doc: 'write a file in the root',
  },
  'fs.symlink': {
    actor: 'init',
    args: [a('path', 'str'), a('target', 'str')],
    subject: 'path',
    syscalls: ['openat2', 'symlinkat'],
    doc: 'create a symlink in the root',
  },
  'dev.node': {
    actor: 'init',
    args: [a('path', 'str'), a('type', 'str'), a('major', 'int'), a('minor', 'int'), a('mode', 'mode'), a('uid', 'int'), a('gid', 'int')],
    subject: 'path',
    syscalls: ['openat2', 'mknodat', 'fchownat', 'fchmodat'],
    doc: 'create a device node',
  },
  'mount.fs': {
    actor: 'init',
    args: [a('type', 'str'), a('src', 'str'), a('dst', 'str'), a('flags', 'names', true), a('data', 'str', true)],
    subject: 'dst',
    syscalls: ['openat2', 'mount'],
    doc: 'mount a filesystem in the root',
  },
  'mount.bind': {
    actor: 'init',
    args: [place('src'), a('dst', 'str'), a('flags', 'names', true)],
    subject: 'dst',
    syscalls: ['openat2', 'mount'],
    doc: 'bind-mount a host path into the root',
  },
  'mount.cgroup': {
    actor: 'init',
    args: [a('dst', 'str'), a('flags', 'names', true), { ...place('path'), optional: true }],
    subject: 'dst',
    syscalls: ['openat2', 'mount'],
    doc: "mount the container's cgroups: each v1 hierarchy under a tmpfs, or the v2 tree, as the host has them; with path (no cgroup namespace), the container's own cgroup bound from the host in each, as runc does",
  },
  'rootfs.pivot': {
    actor: 'init',
    args: [],
    syscalls: ['pivot_root', 'umount2', 'chdir'],
    doc: 'pivot_root into the root and detach the old one',
  },
  'rootfs.readonly': {
    actor: 'init',
    args: [],
    syscalls: ['mount'],
    doc: 'remount the root read-only, once every mount is in place',
  },
  'proc.sysctl': {
    actor: 'init',
    args: [a('key', 'str'), a('value', 'str')],
    subject: 'key',
    syscalls: ['openat', 'write'],
    doc: "set a namespaced kernel parameter in the container's /proc/sys",
  },
  'fs.mask': {
    actor: 'init',
    args: [a('path', 'str')],
    subject: 'path',
    syscalls: ['openat2', 'mount'],
    doc: 'hide a path: an empty read-only tmpfs over a directory, /dev/null over a file; absent paths are skipped',
  },
  'fs.readonly': {
    actor: 'init',
    args: [a('path', 'str')],
    subject: 'path',
    syscalls: ['openat2', 'mount'],
    doc: 'make a path read-only (bound onto itself, remounted ro); absent paths are skipped',
  },
  'uts.hostname': {
    actor: 'init',
    args: [a('name', 'str')],
    subject: 'name',
    syscalls: ['sethostname'],
    doc: 'set the hostname',
  },
  'uts.domainname': {
    actor: 'init',
    args: [a('name', 'str')],
    subject: 'name',
    syscalls: ['setdomainname'],
    doc: 'set the NIS domain name',
  },
  'proc.tty': {
    actor: 'init',
    args: [a('rows', 'int', true), a('cols', 'int', true)],
    syscalls: ['openat', 'ioctl', 'setsid', 'dup3', 'sendmsg'],
    doc: 'give the process a new pseudo-terminal as stdio; the master goes to the console socket or to ctc run -t',
  },
  'proc.rlimit': {
    actor: 'init',
    args: [a('type', 'str'), a('soft', 'str'), a('hard', 'str')],
    subject: 'type',
    syscalls: ['setrlimit'],
    doc: 'set a resource limit (a number, or unlimited)',
  },
  'proc.umask': {
    actor: 'init',
    args: [a('mask', 'mode')],
    subject: 'mask',
    syscalls: ['umask'],
    doc: 'set the file mode creation mask',
  },
  'proc.bounding': {
    actor: 'init',
    args: [a('caps', 'names')],
    subject: 'caps',
    syscalls: ['prctl'],
    doc: 'drop every capability not listed from the bounding set, for good (needs root: before proc.user)',
  },
  'proc.user': {
    actor: 'init',
    args: [a('uid', 'int', true), a('gid', 'int', true), a('name', 'str', true), a('groups', 'ints', true), a('keepcaps', 'int', true)],
    subject: 'uid',
    syscalls: ['prctl', 'setgroups', 'setgid', 'setuid'],
    doc: "set supplementary groups, gid, then uid (or a user by name, looked up in the container's /etc/passwd and /etc/group when it runs); keepcaps=1 keeps the permitted capabilities across the switch",
  },
  'proc.caps': {
    actor: 'init',
    args: [
      a('effective', 'names'),
      a('permitted', 'names'),
      a('inheritable', 'names'),
      a('ambient', 'names'),
      a('after-exec', 'str', true),
    ],
    syscalls: ['capset', 'prctl'],
    doc: 'set the capability sets as the target user, then raise the ambient ones; after-exec is what the process holds once it execs its program, as the kernel computes it (CapInh/CapPrm/CapEff/CapBnd/CapAmb of /proc/self/status; a uid other than 0 keeps only its ambient capabilities), checked against these steps when the plan runs',
  },
  'proc.no-new-privs': {
    actor: 'init',
    args: [],
    syscalls: ['prctl'],
    doc: 'set no_new_privs: setuid programs and file capabilities gain nothing',
  },
  'proc.apparmor': {
    actor: 'init',
    args: [a('profile', 'str')],
    subject: 'profile',
    syscalls: ['openat', 'write'],
    doc: 'the AppArmor profile the process enters at exec (refused on a host without AppArmor)',
  },
  'proc.selinux': {
    actor: 'init',
    args: [a('label', 'str')],
    subject: 'label',
    syscalls: ['openat', 'write'],
    doc: 'the SELinux context the process enters at exec (refused on a host without SELinux)',
  },
  'proc.seccomp': {
    actor: 'init',
    args: [a('default', 'str'), a('arches', 'names'), a('flags', 'names', true), a('rules', 'strs'), a('size', 'int'), a('sha256', 'str')],
    syscalls: ['seccomp'],
    doc: 'load the seccomp filter compiled from these rules (first match decides, else the default); size is its instruction count and sha256 its digest, checked when it runs',
  },
  'proc.pdeathsig': {
    actor: 'init',
    args: [a('signal', 'str')],
    subject: 'signal',
    syscalls: ['prctl'],
    doc: "the signal the process gets when its parent (ctc's monitor) dies",
  },
  'proc.cwd': {
    actor: 'init',
    args: [a('dir', 'str')],
    subject: 'dir',
    syscalls: ['chdir'],
    doc: 'change to the working directory',
  },
  'proc.exec': {
    actor: 'init',
    args: [a('args', 'strs'), a('env', 'strs')],
    subject: 'args',
    syscalls: ['execve'],
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

/** What each argument type holds once parsed. */
export interface ArgValues {
  str: string;
  int: number;
  mode: number;
  names: string[];
  strs: string[];
  ints: number[];
}

type ArgsSpecOf<K extends StepKind> = (typeof stepKinds)[K]['args'][number];
/** A kind's arguments by name, typed from the table; optional ones may be absent. */
export type ArgsOf<K extends StepKind> = {
  [A in ArgsSpecOf<K> as A extends { optional: true } ? never : A['name']]: ArgValues[A['type']];
} & {
  [A in ArgsSpecOf<K> as A extends { optional: true } ? A['name'] : never]?: ArgValues[A['type']];
};

/** A step of one kind, its arguments typed: what policy rules read. */
export type StepOf<K extends StepKind> = Omit<Step, 'kind' | 'args'> & { kind: K; args: ArgsOf<K> };

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
