// A container's cgroup as the tests check it from the host: the same
// question on a cgroup v1 (or hybrid) host and on a pure v2 one, read from
// the kernel's own files, never through ctc's driver.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { procStat } from '../executor/container/proc.ts';

/** A pure cgroup v2 host: the one hierarchy is mounted at /sys/fs/cgroup. */
export const pureV2 = existsSync('/sys/fs/cgroup/cgroup.controllers');

/** The host directory of pid's cgroup for a controller: its v1 hierarchy's, else the v2 tree's. */
export function cgroupDir(pid: number, controller: string): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => /^(\d+):([^:]*):(.*)$/.exec(l)!);
  const v1 = lines.find((m) => m[2].split(',').includes(controller));
  if (v1) return `/sys/fs/cgroup/${controller}${v1[3]}`;
  return `${pureV2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/unified'}${lines.find((m) => m[1] === '0')![3]}`;
}

export const cgroupFile = (pid: number, controller: string, file: string) =>
  readFileSync(join(cgroupDir(pid, controller), file), 'utf8').trim();

/**
 * Frozen, as the kernel says it: v2's cgroup.events has `frozen 1` (its
 * tasks stay in S); v1's freezer leaves each task in D.
 */
export function frozen(pid: number): boolean {
  if (pureV2) return /^frozen 1$/m.test(cgroupFile(pid, 'freezer', 'cgroup.events'));
  return procStat(pid)?.state === 'D';
}

/** The line of a /proc/PID/cgroup text that says the process is in path: v1's memory hierarchy, or v2's 0::. */
export const inCgroup = (path: string) => new RegExp(pureV2 ? `^0::${path}$` : `:memory:${path}$`, 'm');
