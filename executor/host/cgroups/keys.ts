// The limits a plan sets (cgroup.limit key=... value=...), and the files
// they are on each layout: one table for v1 and v2, with the v1 → v2
// conversions (shares → weight, blkio → io) that runc and crun use.

import { CtcError } from '../../../common/error.ts';

export const limitKeys = [
  'memory.limit',
  'memory.reservation',
  'memory.swap',
  'memory.swappiness',
  'memory.oom-kill-disable',
  'pids.limit',
  'cpu.shares',
  'cpu.max',
  'cpu.burst',
  'cpu.rt-period',
  'cpu.rt-runtime',
  'cpu.idle',
  'cpuset.cpus',
  'cpuset.mems',
  'blkio.weight',
  'blkio.weight-device',
  'blkio.read-bps',
  'blkio.write-bps',
  'blkio.read-iops',
  'blkio.write-iops',
  'hugetlb.limit',
  'net.classid',
  'net.prio',
  'rdma.max',
  'unified',
] as const;

export type LimitKey = (typeof limitKeys)[number];
export const isLimitKey = (k: string): k is LimitKey => (limitKeys as readonly string[]).includes(k);

/** A file to write: the controller that owns it (v1's hierarchy), its name, the value. */
export type Write = [controller: string, file: string, value: string];

/** Shares 2..262144 onto weight 1..10000. */
export const sharesToWeight = (shares: number) => 1 + Math.floor(((shares - 2) * 9999) / 262142);
/** blkio weight 10..1000 onto io.weight 1..10000. */
export const blkioToIoWeight = (weight: number) => 1 + Math.floor(((weight - 10) * 9999) / 990);

const notOn = (layout: string, key: string, why: string): never => {
  throw new CtcError('CT_CGROUP_LAYOUT', `${key} cannot be set on cgroup ${layout}: ${why}`, {
    hint: `remove it from the source, or run on a cgroup ${layout === 'v1' ? 'v2' : 'v1'} host`,
  });
};

/** -1 is "no limit" (`ctc update --memory -1`): v2 files and pids.max spell it max. */
const max = (v: string) => (v === '-1' ? 'max' : v);

/** "8:0 500" → ["8:0", "500"]; "2MB 67108864" → ["2MB", "67108864"]. */
const pair = (value: string) => {
  const i = value.indexOf(' ');
  return [value.slice(0, i), value.slice(i + 1)] as const;
};

export function v1Writes(key: LimitKey, value: string): Write[] {
  switch (key) {
    case 'memory.limit':
      return [['memory', 'memory.limit_in_bytes', value]];
    case 'memory.reservation':
      return [['memory', 'memory.soft_limit_in_bytes', value]];
    case 'memory.swap':
      return [['memory', 'memory.memsw.limit_in_bytes', value]];
    case 'memory.swappiness':
      return [['memory', 'memory.swappiness', value]];
    case 'memory.oom-kill-disable':
      return [['memory', 'memory.oom_control', value]];
    case 'pids.limit':
      return [['pids', 'pids.max', max(value)]];
    case 'cpu.shares':
      return [['cpu', 'cpu.shares', value]];
    case 'cpu.max': {
      const [quota, period] = value.split(' ');
      // The period first: the kernel checks the quota against it.
      return [
        ['cpu', 'cpu.cfs_period_us', period],
        ['cpu', 'cpu.cfs_quota_us', quota === 'max' ? '-1' : quota],
      ];
    }
    case 'cpu.burst':
      return [['cpu', 'cpu.cfs_burst_us', value]];
    case 'cpu.rt-period':
      return [['cpu', 'cpu.rt_period_us', value]];
    case 'cpu.rt-runtime':
      return [['cpu', 'cpu.rt_runtime_us', value]];
    case 'cpu.idle':
      return [['cpu', 'cpu.idle', value]];
    case 'cpuset.cpus':
      return [['cpuset', 'cpuset.cpus', value]];
    case 'cpuset.mems':
      return [['cpuset', 'cpuset.mems', value]];
    case 'blkio.weight':
      return [['blkio', 'blkio.bfq.weight', value]];
    case 'blkio.weight-device':
      return [['blkio', 'blkio.bfq.weight_device', value]];
    case 'blkio.read-bps':
      return [['blkio', 'blkio.throttle.read_bps_device', value]];
    case 'blkio.write-bps':
      return [['blkio', 'blkio.throttle.write_bps_device', value]];
    case 'blkio.read-iops':
      return [['blkio', 'blkio.throttle.read_iops_device', value]];
    case 'blkio.write-iops':
      return [['blkio', 'blkio.throttle.write_iops_device', value]];
    case 'hugetlb.limit': {
      const [size, bytes] = pair(value);
      return [['hugetlb', `hugetlb.${size}.limit_in_bytes`, bytes]];
    }
    case 'net.classid':
      return [['net_cls', 'net_cls.classid', value]];
    case 'net.prio':
      return [['net_prio', 'net_prio.ifpriomap', value]];
    case 'rdma.max':
      return [['rdma', 'rdma.max', value]];
    case 'unified':
      return notOn('v1', key, 'unified holds cgroup v2 files');
  }
}

/**
 * The v2 files for a limit. `current` reads a file of the cgroup: memory+swap
 * (OCI) becomes swap alone, which needs the memory limit set just before.
 */
export function v2Writes(key: LimitKey, value: string, current: (file: string) => string | undefined): Write[] {
  const w = (controller: string, file: string, v: string): Write[] => [[controller, file, max(v)]];
  switch (key) {
    case 'memory.limit':
      return w('memory', 'memory.max', value);
    case 'memory.reservation':
      return w('memory', 'memory.low', value);
    case 'memory.swap': {
      const limit = Number(current('memory.max'));
      return w('memory', 'memory.swap.max', String(Number.isFinite(limit) ? Number(value) - limit : value));
    }
    case 'memory.swappiness':
      return notOn('v2', key, 'v2 has no per-cgroup swappiness');
    case 'memory.oom-kill-disable':
      return notOn('v2', key, 'v2 cannot turn the OOM killer off for a cgroup');
    case 'pids.limit':
      return w('pids', 'pids.max', value);
    case 'cpu.shares':
      return w('cpu', 'cpu.weight', String(sharesToWeight(Number(value))));
    case 'cpu.max':
      return w('cpu', 'cpu.max', value);
    case 'cpu.burst':
      return w('cpu', 'cpu.max.burst', value);
    case 'cpu.rt-period':
    case 'cpu.rt-runtime':
      return notOn('v2', key, 'real-time budgets are a cgroup v1 feature');
    case 'cpu.idle':
      return w('cpu', 'cpu.idle', value);
    case 'cpuset.cpus':
      return w('cpuset', 'cpuset.cpus', value);
    case 'cpuset.mems':
      return w('cpuset', 'cpuset.mems', value);
    case 'blkio.weight':
      return w('io', 'io.weight', `default ${blkioToIoWeight(Number(value))}`);
    case 'blkio.weight-device': {
      const [dev, weight] = pair(value);
      return w('io', 'io.weight', `${dev} ${blkioToIoWeight(Number(weight))}`);
    }
    case 'blkio.read-bps':
    case 'blkio.write-bps':
    case 'blkio.read-iops':
    case 'blkio.write-iops': {
      const [dev, rate] = pair(value);
      const name = { 'blkio.read-bps': 'rbps', 'blkio.write-bps': 'wbps', 'blkio.read-iops': 'riops', 'blkio.write-iops': 'wiops' }[key];
      return w('io', 'io.max', `${dev} ${name}=${rate}`);
    }
    case 'hugetlb.limit': {
      const [size, bytes] = pair(value);
      return w('hugetlb', `hugetlb.${size}.max`, bytes);
    }
    case 'net.classid':
    case 'net.prio':
      return notOn('v2', key, 'net_cls and net_prio are cgroup v1 controllers (v2 filters with eBPF)');
    case 'rdma.max':
      return w('rdma', 'rdma.max', value);
    case 'unified': {
      const [file, v] = pair(value);
      return w(file.split('.')[0], file, v);
    }
  }
}
