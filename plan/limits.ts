// Resource limits as the plan states them: OCI's resources, and the abstract
// `cgroup.limit` keys they become. The compiler lowers a spec's resources
// through cgroupLimits, and `ctc update` writes the same keys to a running
// container's cgroup.

export interface SpecDeviceRule {
  allow: boolean;
  type: 'a' | 'c' | 'b';
  /** -1 matches any */
  major: number;
  minor: number;
  access: string;
}

export interface SpecDeviceRate {
  major: number;
  minor: number;
  rate: number;
}

export interface SpecResources {
  memory?: { limit?: number; reservation?: number; swap?: number; swappiness?: number; disableOOMKiller?: boolean };
  pids?: { limit: number };
  cpu?: {
    shares?: number;
    quota?: number;
    period?: number;
    burst?: number;
    realtimeRuntime?: number;
    realtimePeriod?: number;
    cpus?: string;
    mems?: string;
    idle?: number;
  };
  blockIO?: {
    weight?: number;
    weightDevice?: { major: number; minor: number; weight: number }[];
    throttleReadBpsDevice?: SpecDeviceRate[];
    throttleWriteBpsDevice?: SpecDeviceRate[];
    throttleReadIOPSDevice?: SpecDeviceRate[];
    throttleWriteIOPSDevice?: SpecDeviceRate[];
  };
  hugepageLimits?: { pageSize: string; limit: number }[];
  network?: { classID?: number; priorities?: { name: string; priority: number }[] };
  unified?: Record<string, string>;
  rdma?: Record<string, { hcaHandles?: number; hcaObjects?: number }>;
  /** device cgroup rules; none means no device filter */
  devices: SpecDeviceRule[];
}

export interface LimitSetting {
  key: string;
  value: string;
  /** the spec path it comes from */
  cause: string;
}

/** Resources as the driver's abstract limit keys, in the order they are written (also `ctc update`'s). */
export function cgroupLimits(resources: Omit<SpecResources, 'devices'>): LimitSetting[] {
  const settings: LimitSetting[] = [];
  const { memory, pids, cpu } = resources;
  const limit = (key: string, value: number | string | undefined, cause: string) => {
    if (value !== undefined) settings.push({ key, value: String(value), cause });
  };
  limit('memory.limit', memory?.limit, 'resources.memory.limit');
  limit('memory.reservation', memory?.reservation, 'resources.memory.reservation');
  limit('memory.swap', memory?.swap, 'resources.memory.swap');
  limit('memory.swappiness', memory?.swappiness, 'resources.memory.swappiness');
  limit('memory.oom-kill-disable', memory?.disableOOMKiller ? 1 : undefined, 'resources.memory.disableOOMKiller');
  limit('pids.limit', pids?.limit, 'resources.pids.limit');
  limit('cpu.shares', cpu?.shares, 'resources.cpu.shares');
  if (cpu?.quota !== undefined || cpu?.period !== undefined) {
    limit('cpu.max', `${cpu.quota ?? 'max'} ${cpu.period ?? 100000}`, 'resources.cpu');
  }
  limit('cpu.burst', cpu?.burst, 'resources.cpu.burst');
  // The period first: the kernel checks a runtime against it.
  limit('cpu.rt-period', cpu?.realtimePeriod, 'resources.cpu.realtimePeriod');
  limit('cpu.rt-runtime', cpu?.realtimeRuntime, 'resources.cpu.realtimeRuntime');
  limit('cpu.idle', cpu?.idle, 'resources.cpu.idle');
  limit('cpuset.cpus', cpu?.cpus, 'resources.cpu.cpus');
  limit('cpuset.mems', cpu?.mems, 'resources.cpu.mems');
  const b = resources.blockIO;
  limit('blkio.weight', b?.weight, 'resources.blockIO.weight');
  b?.weightDevice?.forEach((d, i) =>
    limit('blkio.weight-device', `${d.major}:${d.minor} ${d.weight}`, `resources.blockIO.weightDevice[${i}]`),
  );
  const throttles = [
    ['throttleReadBpsDevice', 'blkio.read-bps'],
    ['throttleWriteBpsDevice', 'blkio.write-bps'],
    ['throttleReadIOPSDevice', 'blkio.read-iops'],
    ['throttleWriteIOPSDevice', 'blkio.write-iops'],
  ] as const;
  for (const [field, key] of throttles)
    b?.[field]?.forEach((d, i) => limit(key, `${d.major}:${d.minor} ${d.rate}`, `resources.blockIO.${field}[${i}]`));
  resources.hugepageLimits?.forEach((h, i) => limit('hugetlb.limit', `${h.pageSize} ${h.limit}`, `resources.hugepageLimits[${i}]`));
  const net = resources.network;
  limit('net.classid', net?.classID, 'resources.network.classID');
  net?.priorities?.forEach((p, i) => limit('net.prio', `${p.name} ${p.priority}`, `resources.network.priorities[${i}]`));
  for (const [dev, r] of Object.entries(resources.rdma ?? {})) {
    const parts = [
      r.hcaHandles === undefined ? '' : `hca_handle=${r.hcaHandles}`,
      r.hcaObjects === undefined ? '' : `hca_object=${r.hcaObjects}`,
    ];
    limit('rdma.max', `${dev} ${parts.filter(Boolean).join(' ')}`, `resources.rdma.${dev}`);
  }
  for (const [file, value] of Object.entries(resources.unified ?? {})) limit('unified', `${file} ${value}`, `resources.unified.${file}`);
  return settings;
}
