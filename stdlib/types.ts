// The types an app.ct.ts is checked against. Every name is a string-literal
// union, so a misspelled namespace, mount type or option is a compile error
// at its line and column.

import type { Capabilities, Capability } from './capabilities.ts';
import type { Rlimit } from './rlimits.ts';
import type { Seccomp } from './seccomp.ts';

export type { Capabilities, Capability } from './capabilities.ts';
export type { Rlimit, RlimitType } from './rlimits.ts';

export type Namespace = 'mount' | 'uts' | 'ipc' | 'pid' | 'network' | 'cgroup' | 'user' | 'time';

/**
 * Bytes: a whole number, or one with a unit: '64k', '64m', '1g', '1t' (docker's
 * and runc's), '64Ki', '64Mi', '1Gi' (Kubernetes'), '64KB', '64MB', '1GB'. Every
 * unit is a power of 1024: '64m', '64Mi' and '64MB' are the same size.
 */
export type Bytes = number | `${number}${SizeUnit}`;
/** The units a Bytes string may end with (see Bytes). */
export type SizeUnit =
  | 'k'
  | 'm'
  | 'g'
  | 't'
  | 'K'
  | 'M'
  | 'G'
  | 'T'
  | 'Ki'
  | 'Mi'
  | 'Gi'
  | 'Ti'
  | 'KB'
  | 'MB'
  | 'GB'
  | 'TB'
  | 'kb'
  | 'mb'
  | 'gb'
  | 'tb';

export type MountType = 'bind' | 'proc' | 'sysfs' | 'tmpfs' | 'devpts' | 'mqueue' | 'cgroup' | 'cgroup2';

export type Propagation = 'private' | 'rprivate' | 'slave' | 'rslave' | 'shared' | 'rshared' | 'unbindable' | 'runbindable';

export type MountFlag =
  | 'ro'
  | 'rw'
  | 'nosuid'
  | 'suid'
  | 'nodev'
  | 'dev'
  | 'noexec'
  | 'exec'
  | 'sync'
  | 'async'
  | 'dirsync'
  | 'noatime'
  | 'atime'
  | 'nodiratime'
  | 'diratime'
  | 'relatime'
  | 'norelatime'
  | 'strictatime'
  | 'nostrictatime'
  | 'bind'
  | 'rbind'
  /** a bind seen through the container's id mappings: host owners kept (needs the user namespace) */
  | 'idmap'
  | 'private'
  | 'rprivate'
  | 'shared'
  | 'rshared'
  | 'slave'
  | 'rslave'
  | 'unbindable'
  | 'runbindable';

/** Filesystem data options passed to the kernel as they are. */
export type MountData =
  | `mode=${number}`
  | `size=${string}`
  | `nr_inodes=${string}`
  | `uid=${number}`
  | `gid=${number}`
  | 'newinstance'
  | `ptmxmode=${number}`;

export type MountOption = MountFlag | MountData;

export interface Mount {
  readonly destination: string;
  readonly type: MountType;
  /** a host path for binds; the filesystem's name otherwise (defaults to the type) */
  readonly source?: string;
  readonly options?: readonly MountOption[];
}

/** A device cgroup rule; type 'a' (or none) with no numbers matches every device. */
export interface DeviceRule {
  readonly allow: boolean;
  readonly type?: 'a' | 'c' | 'b';
  readonly major?: number;
  readonly minor?: number;
  /** some of r (read), w (write), m (mknod) */
  readonly access?: string;
}

export interface Device {
  readonly path: string;
  readonly type: 'c' | 'b' | 'p';
  readonly major: number;
  readonly minor: number;
  readonly mode: number;
  readonly uid?: number;
  readonly gid?: number;
}

/** A user by number, or by name from the rootfs's /etc/passwd. */
export type User = { readonly uid: number; readonly gid: number; readonly additionalGids?: readonly number[] } | string;

export interface Process {
  readonly args: readonly [string, ...string[]];
  readonly env?: readonly string[];
  readonly cwd?: string;
  readonly user?: User;
  /** a list fills bounding, effective and permitted; defaults to defaultCapabilities */
  readonly capabilities?: readonly Capability[] | Capabilities;
  readonly rlimits?: readonly Rlimit[];
  /** defaults to true: setuid programs and file capabilities gain nothing */
  readonly noNewPrivileges?: boolean;
  /** defaults to 0o022 */
  readonly umask?: number;
  /** run on a pseudo-terminal (ctc run -t, or a console socket) */
  readonly terminal?: boolean;
  /** -1000..1000 */
  readonly oomScoreAdj?: number;
  /** sent to the process if its parent, ctc's monitor, dies (libcontainer's ParentDeathSignal) */
  readonly parentDeathSignal?: Signal;
  /** the AppArmor profile to run under; a host without AppArmor refuses to run it */
  readonly apparmorProfile?: string;
  /** the SELinux process context; a host without SELinux refuses to run it */
  readonly selinuxLabel?: string;
  /** a syscall filter, compiled by ctc to BPF; 'default' (or left out) is `defaultSeccomp`, as the project config spells it; 'unconfined' for none */
  readonly seccomp?: Seccomp | 'default' | 'unconfined';
}

export type Signal = 'SIGHUP' | 'SIGINT' | 'SIGQUIT' | 'SIGKILL' | 'SIGUSR1' | 'SIGUSR2' | 'SIGTERM' | 'SIGPWR';

export interface Resources {
  readonly memory?: {
    readonly limit?: Bytes;
    /** a soft limit the kernel reclaims towards under pressure (v2 memory.low) */
    readonly reservation?: Bytes;
    /** memory plus swap, as in the OCI spec */
    readonly swap?: Bytes;
    /** 0..100; cgroup v1 only */
    readonly swappiness?: number;
    /** cgroup v1 only: the container waits instead of being OOM-killed */
    readonly disableOOMKiller?: boolean;
  };
  readonly pids?: { readonly limit: number };
  /** device cgroup rules; defaults to defaultDeviceRules (deny all but the default devices) */
  readonly devices?: readonly DeviceRule[];
  readonly cpu?: {
    /** relative weight, 2..262144 (cgroup v1 shares; v2 weight 1..10000) */
    readonly shares?: number;
    /** microseconds of CPU per period */
    readonly quota?: number;
    /** microseconds, 1000..1000000 */
    readonly period?: number;
    /** microseconds a period may borrow from earlier idle ones */
    readonly burst?: number;
    /** cgroup v1 only: real-time scheduling budget */
    readonly realtimeRuntime?: number;
    readonly realtimePeriod?: number;
    /** CPUs and memory nodes, as lists: '0-1,3' */
    readonly cpus?: string;
    readonly mems?: string;
    /** 1: the group only gets idle CPU time */
    readonly idle?: 0 | 1;
  };
  readonly blockIO?: {
    /** 10..1000 (v2 io.weight is converted) */
    readonly weight?: number;
    readonly weightDevice?: readonly { readonly major: number; readonly minor: number; readonly weight: number }[];
    /** bytes or operations per second, per device */
    readonly throttleReadBpsDevice?: readonly { readonly major: number; readonly minor: number; readonly rate: number }[];
    readonly throttleWriteBpsDevice?: readonly { readonly major: number; readonly minor: number; readonly rate: number }[];
    readonly throttleReadIOPSDevice?: readonly { readonly major: number; readonly minor: number; readonly rate: number }[];
    readonly throttleWriteIOPSDevice?: readonly { readonly major: number; readonly minor: number; readonly rate: number }[];
  };
  /** per huge page size ('2MB', '1GB') */
  readonly hugepageLimits?: readonly { readonly pageSize: `${number}${'KB' | 'MB' | 'GB'}`; readonly limit: Bytes }[];
  /** cgroup v1 net_cls/net_prio */
  readonly network?: { readonly classID?: number; readonly priorities?: readonly { readonly name: string; readonly priority: number }[] };
  /** cgroup v2 only: file name → value, written as given */
  readonly unified?: Readonly<Record<string, string>>;
  /** per RDMA device */
  readonly rdma?: Readonly<Record<string, { readonly hcaHandles?: number; readonly hcaObjects?: number }>>;
}

/** A prepared directory on the host used as the root filesystem. */
export interface DirRootfs {
  readonly kind: 'dir';
  readonly path: string;
  readonly readonly?: boolean;
}

/**
 * A root built at run time on a fresh tmpfs: the listed host paths are
 * mirrored read-only (symlinks stay symlinks), plus generated files.
 */
export interface HostRootfs {
  readonly kind: 'host';
  readonly mirror: readonly string[];
  readonly dirs: Readonly<Record<string, number>>;
  readonly files: Readonly<Record<string, string>>;
  /** the whole root read-only once built (the mirrored programs always are) */
  readonly readonly?: boolean;
}

/**
 * An image archive (an OCI image layout, tarred or not, or a `docker save`
 * archive), unpacked once per image into a cache under the state root when
 * a container first runs it. The plan records the image's digest; an
 * archive that no longer holds that image is refused.
 */
export interface ImageRootfs {
  readonly kind: 'image';
  /** the archive's path; a relative one is relative to the source (and, when the plan runs, to the plan) */
  readonly archive: string;
  /**
   * The image as it is, read-only. By default the root is writable: an
   * overlay whose writes stay in the container's memory and go with it.
   */
  readonly readonly?: boolean;
}

export type Rootfs = DirRootfs | HostRootfs | ImageRootfs;

/** An address with its prefix length: '10.88.0.2/24', 'fd00:88::2/64'. */
export type Cidr = `${string}/${number}`;

/** The loopback interface; a new network namespace always gets lo up, listed or not. */
export interface Loopback {
  readonly type: 'loopback';
}

/** A bridge on the host that a veth's host end is attached to. */
export interface Bridge {
  readonly name: string;
  /**
   * Make it when it is missing, marked as ctc's (ifalias "ctc"); it is
   * removed with the last container that used it. An existing bridge is
   * used as it is, and never removed.
   */
  readonly create?: boolean;
  /** the bridge's own addresses when ctc makes it: usually the containers' gateway */
  readonly addresses?: readonly Cidr[];
  readonly mtu?: number;
}

/** A veth pair: one end in the container, the other on the host (or a bridge there). */
export interface Veth {
  readonly type: 'veth';
  /** the name inside the container; defaults to eth0 */
  readonly name?: string;
  /** the host end's name, at most 15 bytes; defaults to one made from the container id */
  readonly hostName?: string;
  /** a bridge's name, or a bridge ctc may create */
  readonly bridge?: string | Bridge;
  /** the container end's MAC address: unicast, like '02:42:0a:58:00:02' */
  readonly mac?: string;
  /**
   * The container's addresses, or 'auto': one from each of the bridge's
   * subnets (its addresses), the first free one when the container starts,
   * claimed under the state root and given back when it is removed.
   */
  readonly addresses?: readonly Cidr[] | 'auto';
  /** the IPv4 default route's next hop: inside one of the addresses' subnets */
  readonly gateway?: string;
  /** the IPv6 default route's next hop */
  readonly ipv6Gateway?: string;
  /** 68..65535, both ends */
  readonly mtu?: number;
  /** the transmit queue length, both ends */
  readonly txQueueLen?: number;
  /** a frame may go back out of the bridge port it came in by (needs a bridge) */
  readonly hairpin?: boolean;
}

export type Interface = Loopback | Veth;

export interface Route {
  /** a subnet, or 'default' (IPv4, or IPv6 when the gateway is) */
  readonly destination: Cidr | 'default';
  readonly gateway?: string;
  /** the preferred source address */
  readonly source?: string;
  /** one of the container's interface names */
  readonly interface?: string;
}

/** A published port: connections to the host's port are forwarded to the container's (nftables DNAT). */
export interface PortMapping {
  readonly host: number;
  readonly container: number;
  /** defaults to tcp */
  readonly protocol?: 'tcp' | 'udp';
  /** only connections to this host address; any of the host's when absent */
  readonly hostIp?: string;
}

/** Generated /etc/resolv.conf and /etc/hosts, bound into the container. */
export interface Dns {
  readonly servers?: readonly string[];
  readonly search?: readonly string[];
  readonly options?: readonly string[];
  /** extra /etc/hosts entries: name → address */
  readonly hosts?: Readonly<Record<string, string>>;
}

export interface NetworkConfig {
  readonly interfaces?: readonly Interface[];
  readonly routes?: readonly Route[];
  readonly dns?: Dns;
  readonly ports?: readonly PortMapping[];
}

/** Existing namespaces to enter, each by a path like /proc/PID/ns/KIND (pid: the init is born in it). */
export interface NamespaceJoins {
  /** its maps are the joined namespace's: uidMappings, if given, only describe them for the compile-time checks */
  readonly user?: string;
  readonly pid?: string;
  readonly ipc?: string;
  readonly uts?: string;
  readonly time?: string;
  readonly cgroup?: string;
}

/** Join an existing network namespace (a path like /var/run/netns/NAME or /proc/PID/ns/net). */
export interface NetworkJoin {
  readonly join: string;
}

/**
 * 'none': a network namespace with only lo (the default); 'host': the host's
 * network, no namespace; a NetworkConfig: a new namespace with interfaces,
 * routes, DNS and published ports; a NetworkJoin: an existing namespace.
 */
export type Network = 'none' | 'host' | NetworkConfig | NetworkJoin;

/**
 * Ids containerID..containerID+size-1 inside the user namespace are
 * hostID..hostID+size-1 on the host. hostID 'self' is the user who runs ctc
 * (size 1); 'subordinate' is the start of that user's range in /etc/subuid
 * (or /etc/subgid), looked up when the container starts: what a rootless
 * container maps.
 */
export interface IdMapping {
  readonly containerID: number;
  readonly hostID: number | 'self' | 'subordinate';
  readonly size: number;
}

/**
 * A program run at a moment of the container's life (OCI hooks). It gets the
 * container's state as JSON on stdin: ociVersion, id, status, pid, bundle,
 * annotations.
 */
export interface Hook {
  /** an absolute path on the host (startContainer: in the container's root) */
  readonly path: string;
  /** the whole argv, argv[0] included; defaults to [path] */
  readonly args?: readonly string[];
  /** the whole environment, 'NAME=value' each; defaults to none */
  readonly env?: readonly string[];
  /** seconds; the hook is killed (and has failed) once they pass */
  readonly timeout?: number;
}

/**
 * The moments, in the order they come (OCI runtime spec, "Lifecycle"). A
 * failing prestart, createRuntime, createContainer or startContainer hook
 * stops the container and undoes its creation; a failing poststart or
 * poststop hook is a warning.
 */
export interface Hooks {
  /** deprecated by the runtime spec: run with createRuntime */
  readonly prestart?: readonly Hook[];
  /** on the host, once the namespaces and mounts exist, before the root is pivoted */
  readonly createRuntime?: readonly Hook[];
  /** in the container's namespaces, after createRuntime, before the root is pivoted */
  readonly createContainer?: readonly Hook[];
  /** in the container's namespaces, at start, before its process runs */
  readonly startContainer?: readonly Hook[];
  /** on the host, once the process runs */
  readonly poststart?: readonly Hook[];
  /** on the host, once the container is deleted */
  readonly poststop?: readonly Hook[];
}

export interface ContainerDef {
  readonly rootfs: Rootfs;
  readonly process: Process;
  readonly hostname?: string;
  readonly domainname?: string;
  /** defaults to mount, uts, ipc, pid, network, cgroup (without network for network: 'host') */
  readonly namespaces?: readonly Namespace[];
  /**
   * Listed namespaces entered by path instead of made, as a pod's containers
   * share its sandbox's: `joins: { ipc: '/proc/4242/ns/ipc' }`. The network
   * namespace is joined with network: { join }.
   */
  readonly joins?: NamespaceJoins;
  /** defaults to 'none': a network namespace with only lo */
  readonly network?: Network;
  /**
   * With the 'user' namespace: which host uids the container's are. Root
   * inside (0) must be mapped: the init sets the container up as it.
   */
  readonly uidMappings?: readonly IdMapping[];
  readonly gidMappings?: readonly IdMapping[];
  readonly mounts?: readonly Mount[];
  /** device nodes to create besides the default ones */
  readonly devices?: readonly Device[];
  /** defaults to maskedPaths.default */
  readonly maskedPaths?: readonly string[];
  /** defaults to readonlyPaths.default */
  readonly readonlyPaths?: readonly string[];
  readonly resources?: Resources;
  readonly annotations?: Readonly<Record<string, string>>;
  /** programs run at moments of the container's life: see Hooks */
  readonly hooks?: Hooks;
  /**
   * Namespaced kernel parameters only (kernel.msg*, kernel.sem, kernel.shm*,
   * fs.mqueue.*, net.*): anything else would change the host.
   */
  readonly sysctl?: Readonly<Record<string, string>>;
  /** the SELinux context of the container's own mounts (tmpfs, devpts, mqueue) */
  readonly mountLabel?: string;
  /**
   * The propagation of the container's root (OCI rootfsPropagation); defaults
   * to rprivate: nothing mounted on either side is seen on the other.
   */
  readonly rootfsPropagation?: Propagation;
  /** where the cgroup is made; defaults to /ctc/<container id> */
  readonly cgroupsPath?: string;
}

export interface Container {
  readonly kind: 'ctc.container';
  readonly def: ContainerDef;
}
