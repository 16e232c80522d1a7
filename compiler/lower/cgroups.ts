import type { Spec, SpecResources } from '../spec.ts';
import { defaultDevices } from '../../stdlib/devices.ts';
import type { Emitter } from './emit.ts';

export interface LimitSetting {
  key: string;
  value: string;
  /** the spec path it comes from */
  cause: string;
}

/** The cgroup is made and limited before the init exists, so no container code runs unlimited. */
export function lowerCgroup(spec: Spec, out: Emitter): void {
  const path = spec.cgroupsPath;
  out.emit('cgroup.create', { path }, 'cgroupsPath');
  for (const { key, value, cause } of cgroupLimits(spec.resources)) out.emit('cgroup.limit', { path, key, value }, cause);
  if (spec.resources.devices.length) out.emit('cgroup.devices', { path, rules: deviceRules(spec) }, 'resources.devices');
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
  b?.weightDevice?.forEach((d, i) => limit('blkio.weight-device', `${d.major}:${d.minor} ${d.weight}`, `resources.blockIO.weightDevice[${i}]`));
  const throttles = [
    ['throttleReadBpsDevice', 'blkio.read-bps'],
    ['throttleWriteBpsDevice', 'blkio.write-bps'],
    ['throttleReadIOPSDevice', 'blkio.read-iops'],
    ['throttleWriteIOPSDevice', 'blkio.write-iops'],
  ] as const;
  for (const [field, key] of throttles) b?.[field]?.forEach((d, i) => limit(key, `${d.major}:${d.minor} ${d.rate}`, `resources.blockIO.${field}[${i}]`));
  resources.hugepageLimits?.forEach((h, i) => limit('hugetlb.limit', `${h.pageSize} ${h.limit}`, `resources.hugepageLimits[${i}]`));
  const net = resources.network;
  limit('net.classid', net?.classID, 'resources.network.classID');
  net?.priorities?.forEach((p, i) => limit('net.prio', `${p.name} ${p.priority}`, `resources.network.priorities[${i}]`));
  for (const [dev, r] of Object.entries(resources.rdma ?? {})) {
    const parts = [r.hcaHandles === undefined ? '' : `hca_handle=${r.hcaHandles}`, r.hcaObjects === undefined ? '' : `hca_object=${r.hcaObjects}`];
    limit('rdma.max', `${dev} ${parts.filter(Boolean).join(' ')}`, `resources.rdma.${dev}`);
  }
  for (const [file, value] of Object.entries(resources.unified ?? {})) limit('unified', `${file} ${value}`, `resources.unified.${file}`);
  return settings;
}

export function lowerCgroupJoin(spec: Spec, out: Emitter): void {
  out.emit('cgroup.join', { path: spec.cgroupsPath }, 'cgroupsPath');
  const oom = spec.process.oomScoreAdj;
  if (oom !== undefined) out.emit('proc.oom-score', { value: oom }, 'process.oomScoreAdj');
}

/**
 * Device rules as the kernel's v1 syntax, after the spec's own rules the
 * devices every container has and the ones it asked for (the runtime spec
 * says they must be usable), so a deny-all list still leaves them working.
 */
export function deviceRules(spec: Spec): string[] {
  const n = (x: number) => (x === -1 ? '*' : String(x));
  const rule = (allow: boolean, type: string, major: number, minor: number, access: string) =>
    `${allow ? 'allow' : 'deny'} ${type} ${type === 'a' ? '*:*' : `${n(major)}:${n(minor)}`} ${access}`;
  const own = spec.resources.devices.map((r) => rule(r.allow, r.type, r.major, r.minor, r.access));
  const always = [
    ...defaultDevices.map((d) => rule(true, d.type, d.major, d.minor, 'rwm')),
    rule(true, 'c', 5, 1, 'rwm'), // /dev/console
    rule(true, 'c', 5, 2, 'rwm'), // /dev/ptmx
    rule(true, 'c', 136, -1, 'rwm'), // /dev/pts/*
    ...spec.devices.filter((d) => d.type !== 'p').map((d) => rule(true, d.type, d.major, d.minor, 'rwm')),
  ];
  return [...own, ...always];
}
