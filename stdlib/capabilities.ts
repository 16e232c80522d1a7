// Linux capabilities: the one table of names and numbers (capability.h).
// The executor checks the numbers against the running kernel's
// /proc/sys/kernel/cap_last_cap.

export const capabilityNumbers = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
} as const;

export type Capability = keyof typeof capabilityNumbers;

/** The five capability sets of a process. */
export interface Capabilities {
  readonly bounding: readonly Capability[];
  readonly effective: readonly Capability[];
  readonly permitted: readonly Capability[];
  readonly inheritable?: readonly Capability[];
  readonly ambient?: readonly Capability[];
}

/** What runc and containerd give a container: enough to act as root inside, nothing that reaches the host. */
export const defaultCapabilities: readonly Capability[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Lists built from others: `capabilities.drop(defaultCapabilities, 'CAP_NET_RAW')`. */
export const capabilities = {
  add(base: readonly Capability[], ...caps: Capability[]): readonly Capability[] {
    return [...base, ...caps.filter((c) => !base.includes(c))];
  },
  drop(base: readonly Capability[], ...caps: Capability[]): readonly Capability[] {
    return base.filter((c) => !caps.includes(c));
  },
};

/** The same list in the bounding, effective and permitted sets, as docker does. */
export function capabilitySets(caps: readonly Capability[]): Capabilities {
  return { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] };
}
