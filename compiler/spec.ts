// The one normalized model of a container. Every frontend produces a Spec plus
// its Origins; checks and lowering read nothing else.

import type { Namespace, MountType } from '../stdlib/types.ts';
import type { SpecSeccomp } from '../plan/seccomp/types.ts';
import type { JoinableNamespace } from '../plan/namespaces.ts';
import type { SpecResources } from '../plan/limits.ts';

export interface SpecMount {
  destination: string;
  type: MountType;
  source: string;
  options: string[];
}

export interface SpecUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** the name it was given by, if any */
  name?: string;
}

export type SpecRootfs =
  | { kind: 'dir'; path: string; readonly: boolean }
  | { kind: 'host'; mirror: string[]; dirs: Record<string, number>; files: Record<string, string>; readonly: boolean }
  /** archive as written; digest: the image's, read from the archive by the build ('' before) */
  | { kind: 'image'; archive: string; readonly: boolean; digest: string };

export interface SpecCapabilities {
  bounding: string[];
  effective: string[];
  permitted: string[];
  inheritable: string[];
  ambient: string[];
}

export interface SpecRlimit {
  type: string;
  /** -1 is unlimited */
  soft: number;
  hard: number;
}

export interface SpecDevice {
  path: string;
  type: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  mode: number;
  uid: number;
  gid: number;
}

export interface SpecProcess {
  args: string[];
  env: string[];
  cwd: string;
  user: SpecUser;
  terminal: boolean;
  /** the terminal's initial size, when terminal is set */
  consoleSize?: { rows: number; cols: number };
  /** absent: the capabilities are left as the user switch leaves them (OCI) */
  capabilities?: SpecCapabilities;
  rlimits: SpecRlimit[];
  noNewPrivileges: boolean;
  umask?: number;
  oomScoreAdj?: number;
  parentDeathSignal?: string;
  seccomp?: SpecSeccomp;
  /** loaded by the LSM when the process execs; refused where the LSM is absent */
  apparmorProfile?: string;
  selinuxLabel?: string;
}

export interface SpecBridge {
  name: string;
  create: boolean;
  addresses: string[];
  mtu?: number;
}

export interface SpecVeth {
  type: 'veth';
  /** inside the container */
  name: string;
  /** absent: made from the container id when it runs */
  hostName?: string;
  bridge?: SpecBridge;
  mac?: string;
  /** CIDRs, as written */
  addresses: string[];
  /** addresses: 'auto': one per subnet of the bridge, given out when the container starts */
  ipam: boolean;
  gateway?: string;
  ipv6Gateway?: string;
  mtu?: number;
  txQueueLen?: number;
  hairpin: boolean;
}

export interface SpecRoute {
  /** a CIDR, or 'default' */
  destination: string;
  gateway?: string;
  source?: string;
  interface?: string;
}

export interface SpecPort {
  host: number;
  container: number;
  protocol: 'tcp' | 'udp';
  hostIp?: string;
}

export interface SpecDns {
  servers: string[];
  search: string[];
  options: string[];
  hosts: Record<string, string>;
}

/** The network of a container with its own network namespace ('host' has none: see namespaces). */
export interface SpecNetwork {
  /** join this existing network namespace instead of making one */
  join?: string;
  /** in the order written (lo is always up, listed or not) */
  interfaces: (SpecVeth | { type: 'loopback' })[];
  routes: SpecRoute[];
  dns?: SpecDns;
  ports: SpecPort[];
}

export interface SpecIdMapping {
  containerID: number;
  /** 'self': the user running ctc; 'subordinate': the start of its /etc/subuid (subgid) range */
  hostID: number | 'self' | 'subordinate';
  size: number;
}

/** The OCI hook moments, in the order they come. */
export const hookKinds = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
export type HookKind = (typeof hookKinds)[number];

export interface SpecHook {
  path: string;
  /** the whole argv; [path] when none was given */
  args: string[];
  env: string[];
  /** seconds */
  timeout?: number;
}

export interface Spec {
  rootfs: SpecRootfs;
  process: SpecProcess;
  hostname?: string;
  domainname?: string;
  namespaces: Namespace[];
  /** listed namespaces entered by path instead of made (the network one is network.join) */
  joins?: Partial<Record<JoinableNamespace, string>>;
  network: SpecNetwork;
  /** with a user namespace; empty without */
  uidMappings: SpecIdMapping[];
  gidMappings: SpecIdMapping[];
  mounts: SpecMount[];
  /** device nodes besides the default ones */
  devices: SpecDevice[];
  maskedPaths: string[];
  readonlyPaths: string[];
  resources: SpecResources;
  cgroupsPath: string;
  annotations: Record<string, string>;
  /** the hooks of each moment, in order */
  hooks: Partial<Record<HookKind, SpecHook[]>>;
  /** namespaced kernel parameters, written under /proc/sys */
  sysctl: Record<string, string>;
  /** the SELinux label of the container's mounts */
  mountLabel?: string;
  /** private, rprivate, slave, rslave, shared, rshared, unbindable, runbindable; absent: rprivate */
  rootfsPropagation?: string;
}

/**
 * Where each part of a spec was written: spec path (`mounts[2].destination`,
 * `process.args`) → `file:line:col`, relative to the entry source's folder.
 * The path '' is the container itself.
 */
export type Origins = Map<string, string>;

/** The origin of a path, or of the nearest enclosing part that has one. */
export function originOf(origins: Origins, path: string): string | undefined {
  for (let p = path; ; p = parentPath(p)) {
    const o = origins.get(p);
    if (o !== undefined || p === '') return o;
  }
}

function parentPath(p: string): string {
  const i = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
  return i <= 0 ? '' : p.slice(0, i);
}

/** The environment a process gets when its source gives none. */
export const defaultEnv: readonly string[] = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];

/** The path a listed namespace is joined by, if it is joined rather than made. */
export const joinOf = (spec: Pick<Spec, 'joins' | 'network'>, ns: Namespace): string | undefined =>
  ns === 'network' ? spec.network.join : spec.joins?.[ns as JoinableNamespace];

/** Namespaces in the order they are listed in plans. */
export const namespaceOrder: readonly Namespace[] = ['mount', 'uts', 'ipc', 'pid', 'network', 'cgroup', 'user', 'time'];
