// One interface over cgroup v1 and v2. Plans speak of limits by abstract keys
// (memory.limit, pids.limit, cpu.shares, cpu.max); a driver maps them to its
// layout's files, so the same plan runs on either.

export type CgroupLayout = 'v1' | 'v2';

export const limitKeys = ['memory.limit', 'memory.swap', 'pids.limit', 'cpu.shares', 'cpu.max'] as const;
export type LimitKey = (typeof limitKeys)[number];
export const isLimitKey = (k: string): k is LimitKey => (limitKeys as readonly string[]).includes(k);

/** A mount the init performs to show the container its cgroups (mount.cgroup). */
export interface CgroupMount {
  kind: 'tmpfs' | 'cgroup' | 'cgroup2' | 'remount-ro' | 'symlink';
  /** path under the mount.cgroup destination ('' for the destination itself) */
  sub: string;
  /** cgroup v1 controllers (data), or the symlink's target */
  data?: string;
}

export interface CgroupDriver {
  readonly layout: CgroupLayout;
  exists(path: string): boolean;
  /** Creates the cgroup (its parents as needed); fails if it exists. */
  create(path: string): void;
  limit(path: string, key: LimitKey, value: string): void;
  /** Device rules ('allow c 1:3 rwm', 'deny a *:* rwm'), in order. */
  devices(path: string, rules: string[]): void;
  join(path: string, pid: number): void;
  /** Kills what is left inside, then removes the cgroup's directories. */
  remove(path: string): void;
  pids(path: string): number[];
  /** Freezes every process in the cgroup and waits until the kernel says so. */
  freeze(path: string): Promise<void>;
  thaw(path: string): Promise<void>;
  isFrozen(path: string): boolean;
  /** What the container sees at its mount.cgroup destination. */
  mounts(): CgroupMount[];
}
