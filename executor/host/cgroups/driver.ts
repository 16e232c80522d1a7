// One interface over cgroup v1 and v2. Plans speak of limits by abstract keys
// (memory.limit, pids.limit, cpu.shares, cpu.max); a driver maps them to its
// layout's files, so the same plan runs on either.

export type CgroupLayout = 'v1' | 'v2';

import type { LimitKey } from './keys.ts';
import type { Membership } from './membership.ts';
import type { Stats } from './stats.ts';

export type { LimitKey } from './keys.ts';

/** A file and the value written to it. */
export type FileWrite = [file: string, value: string];

export type DeviceWrites = { files: FileWrite[] } | { filter: { dir: string; program: Buffer } };

/** A cgroup file and its content before ctc wrote it. */
export type Previous = [file: string, content: string | undefined];

/** A mount the init performs to show the container its cgroups (mount.cgroup). */
export interface CgroupMount {
  kind: 'tmpfs' | 'cgroup' | 'cgroup2' | 'remount-ro' | 'symlink';
  /** path under the mount.cgroup destination ('' for the destination itself) */
  sub: string;
  /** cgroup v1 controllers (data), or the symlink's target */
  data?: string;
  /** cgroup, cgroup2: where the host has this hierarchy mounted */
  host?: string;
}

export interface CgroupDriver {
  readonly layout: CgroupLayout;
  exists(path: string): boolean;
  /** Creates the cgroup (its parents as needed); fails if it exists. */
  create(path: string): void;
  /** Sets a limit; returns each file written with what it held before (for `ctc update` to restore). */
  limit(path: string, key: LimitKey, value: string): Previous[];
  /** The files a limit writes, in order, without writing them (`read` gives a file's current content). */
  limitWrites(path: string, key: LimitKey, value: string, read?: (file: string) => string | undefined): FileWrite[];
  /** Device rules ('allow c 1:3 rwm', 'deny a *:* rwm'), in order. */
  devices(path: string, rules: string[]): void;
  /** What devices() does, without doing it: files to write (v1), or a filter to attach (v2). */
  deviceWrites(path: string, rules: string[]): DeviceWrites;
  join(path: string, pid: number): void;
  /** Puts pid in every cgroup of this layout that peer is in and pid is not (their /proc/<pid>/cgroup). */
  joinPeer(peer: Membership[], pid: number): void;
  /** Kills what is left inside, then removes the cgroup's directories. */
  remove(path: string): void;
  /** Removes a parent cgroup ctc made, if nothing is in it any more (else leaves it). */
  removeIfEmpty(path: string): void;
  pids(path: string): number[];
  /** Usage in runc's stats shape. */
  stats(path: string): Stats;
  /** How many times the OOM killer has killed in the cgroup (memory.oom_control / memory.events). */
  oomKills(path: string): number;
  /** Freezes every process in the cgroup and waits until the kernel says so. */
  freeze(path: string): Promise<void>;
  thaw(path: string): Promise<void>;
  isFrozen(path: string): boolean;
  /** What the container sees at its mount.cgroup destination. */
  mounts(): CgroupMount[];
}
