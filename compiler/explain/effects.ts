// What each step kind does to the kernel, as a sentence about this step's
// own arguments (`ctc explain`). One entry per kind: the table is typed
// against the step table, so a new kind cannot go without its sentence.

import type { StepKind, StepOf } from '../../plan/steps.ts';

type Effects = { [K in StepKind]: (s: StepOf<K>['args']) => string };

const list = (xs: readonly (string | number)[] | undefined, none = 'none') => (xs?.length ? xs.join(', ') : none);
const octal = (n: number) => '0' + n.toString(8).padStart(3, '0');
const nsNames: Record<string, string> = {
  mount: 'mount',
  uts: 'hostname (uts)',
  ipc: 'IPC',
  pid: 'PID',
  network: 'network',
  cgroup: 'cgroup',
  user: 'user',
  time: 'time',
};
const hookPlace: Record<string, string> = {
  prestart: "root on the host, once the container's namespaces exist (prestart)",
  createRuntime: "root on the host, once the container's namespaces and mounts exist (createRuntime)",
  createContainer: "root inside the container's namespaces, before its root is pivoted (createContainer)",
  startContainer: "root inside the container's namespaces, as it starts, before its process (startContainer)",
  poststart: 'root on the host, once the process runs (poststart)',
  poststop: 'root on the host, when the container is deleted (poststop)',
};
const readOnly = (flags: readonly string[] | undefined) => (flags?.includes('ro') ? 'read-only' : 'read-write');

export const effects: Effects = {
  'state.create': ({ dir }) =>
    `creates the container's state directory ${dir} on the host; the journal of every host change is written there, so a failure can be undone`,
  'image.unpack': ({ archive, digest }) =>
    `makes sure the image ${digest} is unpacked in the cache under the state root, reading ${archive} the first time (nothing in it may land outside the image's root); containers of the same image share it, read-only`,
  'cgroup.create': ({ path }) =>
    `creates the cgroup ${path} on the host (in every v1 hierarchy, or in the v2 tree), where the container's limits are set before any of its code runs`,
  'cgroup.limit': ({ key, value }) =>
    `sets ${key} to ${value} in the container's cgroup: the kernel enforces it on every process of the container`,
  'cgroup.devices': ({ rules }) =>
    `sets the device rules of the container's cgroup (${rules.length} rules, last match wins; first: ${rules[0] ?? 'none'}), so its processes can open only the devices allowed, whatever their capabilities`,
  'net.bridge': ({ name, addrs }) =>
    `makes the bridge ${name} on the host${addrs?.length ? ` with the address${addrs.length > 1 ? 'es' : ''} ${list(addrs)}` : ''} and brings it up, unless a link named ${name} exists (then it is used as it is); containers attached to it can reach each other and the host`,
  'net.ipam': ({ bridge, dev, subnets }) =>
    `gives ${dev} the first free address in each of ${list(subnets)} (the bridge ${bridge}'s subnets), recorded under the state root so no other container gets it until this one is removed`,
  'state.file': ({ name, data }) =>
    `writes ${name} (${Buffer.byteLength(data)} bytes) into the container's state directory, to be bound into the container`,
  'ns.clone': ({ ns }) =>
    `starts ctc-init, which clones the container's init into new ${list(ns.map((n) => nsNames[n] ?? n))} namespaces; any namespace neither made here nor by a later ns.unshare is shared with the host`,
  'cgroup.join': ({ path }) => `moves the waiting init into the cgroup ${path}, so the limits hold before the container runs any code`,
  'user.map': ({ uid, gid }) =>
    `maps the container's ids to the host's (uid ${list(uid)}; gid ${list(gid)}): root inside is an unprivileged user outside, with no power over the host's files`,
  'net.veth': ({ host, peer, bridge, hairpin }) =>
    `makes a veth pair: ${host} on the host${bridge ? `, attached to the bridge ${bridge}${hairpin ? ' in hairpin mode' : ''}` : ''}, and ${peer} inside the container's network namespace; traffic between them crosses the namespace boundary`,
  'net.publish': ({ table, ports }) =>
    `adds the nftables table ${table} (inet) on the host, whose DNAT rules forward ${list(ports)}: anyone who can reach the host's port reaches the container's`,
  'mount.idmap': ({ src, dst, flags }) =>
    `binds the host's ${src} at ${dst}, ${readOnly(flags)}, seen through the container's id mapping: its files keep their host owners, and root inside acts on them as the host's root would where the mapping allows`,
  'proc.oom-score': ({ value }) =>
    `sets the init's oom_score_adj to ${value}: ${value > 0 ? 'the OOM killer picks it sooner' : value < 0 ? 'the OOM killer spares it longer' : "the OOM killer's default"}`,
  'hook.run': ({ when, path, args, timeout }) =>
    `runs ${path}${args.length > 1 ? ` (${args.slice(1).join(' ')})` : ''} as ${hookPlace[when] ?? 'an OCI hook'}, with the container's state on stdin${timeout ? `, killed after ${timeout} s` : ''}; ${['poststart', 'poststop'].includes(when) ? 'if it fails, ctc warns and goes on' : 'if it fails, the container is stopped and undone'}`,
  'ns.unshare': ({ ns }) =>
    `gives the init new ${list(ns.map((n) => nsNames[n] ?? n))} namespaces from inside${ns.includes('cgroup') ? ', so its cgroup becomes the root of what it sees under /sys/fs/cgroup' : ''}`,
  'user.root': () =>
    'makes the init root of its user namespace: uid and gid 0 inside, the mapped host ids outside; its capabilities hold inside the namespace only',
  'ns.join': ({ ns, path }) =>
    ns === 'pid'
      ? `has ctc-init enter the existing pid namespace ${path} before it clones the init, so the init is born there (not as its pid 1): the container sees and shares its processes`
      : ns === 'user'
        ? `has ctc-init enter the existing user namespace ${path} before it clones the init: the container's ids are mapped by that namespace's maps, and the namespaces the clone makes belong to it`
        : `enters the existing ${nsNames[ns] ?? ns} namespace ${path}: the container shares it with whatever else is in it`,
  'net.addr': ({ dev, addr }) => `adds the address ${addr} to ${dev}, inside the container's network namespace`,
  'net.route': ({ dst, gw, src, dev }) =>
    `adds the route ${dst}${gw ? ` via ${gw}` : ''}${dev ? ` dev ${dev}` : ''}${src ? ` src ${src}` : ''} inside the container's network namespace`,
  'mount.propagation': ({ path, mode }) =>
    `makes the mounts under ${path} ${mode}${mode.includes('private') ? ": nothing the container mounts propagates to the host, nor the host's new mounts to it" : mode.includes('slave') ? ": the host's mounts propagate in, none back out" : ': mounts propagate both ways with the host'}`,
  'net.up': ({ dev }) => `brings the ${dev} interface of the container's own network namespace up`,
  'rootfs.tmpfs': ({ dir }) =>
    `mounts a fresh tmpfs at ${dir} as the container's root: it holds nothing of the host and goes with the container`,
  'rootfs.bind': ({ dir }) => `bind-mounts the host directory ${dir} as the container's root, read-write until a rootfs.readonly step`,
  'rootfs.overlay': ({ lower }) =>
    `mounts an overlay of ${lower} (read-only, shared) under a tmpfs of the container's own as its root: it may write anywhere, the writes stay in its memory and go with it`,
  'rootfs.mirror': ({ path }) =>
    `brings the host's ${path} into the root, read-only (symlinks as symlinks): the container can run the host's programs but not change them`,
  'fs.mkdir': ({ path, mode }) => `creates the directory ${path} (mode ${octal(mode)}) in the container's root`,
  'fs.write': ({ path, mode, data }) => `writes ${path} (mode ${octal(mode)}, ${Buffer.byteLength(data)} bytes) in the container's root`,
  'fs.symlink': ({ path, target }) => `creates the symlink ${path} → ${target} in the container's root`,
  'dev.node': ({ path, type, major, minor, mode }) =>
    `creates the ${type === 'b' ? 'block' : type === 'p' ? 'FIFO' : 'character'} device node ${path} (${major}:${minor}, mode ${octal(mode)}); whether it can be opened is up to the device cgroup rules`,
  'mount.fs': ({ type, src, dst, flags, data }) =>
    `mounts a ${readOnly(flags)} ${type} (source ${src}) at ${dst}${flags?.length ? ` with ${list(flags)}` : ''}${data ? ` and ${data}` : ''}${type === 'proc' ? ': the container sees its own processes there' : ''}`,
  'mount.bind': ({ src, dst, flags }) =>
    `binds the host's ${src} at ${dst}, ${readOnly(flags)}${flags?.includes('ro') ? '' : ': the container can change it on the host'}`,
  'mount.cgroup': ({ dst, flags, path }) =>
    `mounts the container's cgroups at ${dst}, ${readOnly(flags)}${path ? `: without a cgroup namespace, only its own cgroup (${path}) is bound from the host` : ''}`,
  'rootfs.pivot': () =>
    "makes the assembled root the container's / (pivot_root) and detaches the host's old root, so no path leads back to it",
  'rootfs.readonly': () => 'remounts the root read-only, once every mount is in place: the container cannot write to its root',
  'proc.sysctl': ({ key, value }) => `sets the namespaced kernel parameter ${key} to ${value}, for the container's namespaces only`,
  'fs.mask': ({ path }) =>
    `hides ${path}: /dev/null is bound over it if it is a file, an empty read-only tmpfs mounted on it if it is a directory, so the container cannot read it (skipped if absent)`,
  'fs.readonly': ({ path }) =>
    `binds ${path} onto itself and remounts it read-only, so the container can read it but not write to it (skipped if absent)`,
  'uts.hostname': ({ name }) => `sets the hostname to ${name}, in the container's own uts namespace`,
  'uts.domainname': ({ name }) => `sets the NIS domain name to ${name}, in the container's own uts namespace`,
  'proc.tty': ({ rows, cols }) =>
    `gives the process a new pseudo-terminal as its stdio${rows && cols ? ` (${rows}×${cols})` : ''}; the master goes to the console socket or to ctc run -t`,
  'proc.rlimit': ({ type, soft, hard }) => `limits ${type} to ${soft} (soft) and ${hard} (hard) for the process and what it starts`,
  'proc.umask': ({ mask }) => `sets the process's umask to ${octal(mask)}`,
  'proc.bounding': ({ caps }) =>
    `drops every capability but ${caps.length} (${list(caps)}) from the bounding set, for good: no program run in the container can gain any other`,
  'proc.user': ({ uid, gid, name, groups, keepcaps }) =>
    `switches to ${name !== undefined ? `the user ${name} (looked up in the container's /etc/passwd)` : `uid ${uid}, gid ${gid}`}${groups?.length ? `, groups ${list(groups)}` : ''}${keepcaps ? ', keeping the permitted capabilities' : ''}`,
  'proc.caps': ({ effective, permitted, inheritable, ambient }) =>
    `sets the capabilities: effective ${list(effective)}; permitted ${list(permitted)}; inheritable ${list(inheritable)}; ambient ${list(ambient)}`,
  'proc.no-new-privs': () => 'sets no_new_privs: setuid programs and file capabilities gain the process nothing',
  'proc.apparmor': ({ profile }) => `confines the process to the AppArmor profile ${profile} from its exec`,
  'proc.selinux': ({ label }) => `runs the process in the SELinux context ${label} from its exec`,
  'proc.seccomp': ({ default: fallback, rules, arches, size }) =>
    `loads a seccomp filter (${size} BPF instructions, for ${arches.join(' and ')}) from ${rules.length} rules: every system call the process makes from then on is checked, the first matching rule decides, and a call no rule names gets ${fallback}`,
  'proc.pdeathsig': ({ signal }) => `asks the kernel to send ${signal} to the process if its parent (ctc's monitor) dies`,
  'proc.cwd': ({ dir }) => `changes to ${dir}, checked to be inside the container's root`,
  'proc.exec': ({ args }) =>
    `executes ${args[0] ?? '(nothing)'}${args.length > 1 ? ` with ${args.length - 1} argument${args.length > 2 ? 's' : ''}` : ''}: from here on the container's own program runs`,
};
