// Which cgroups a process is in, as the kernel says (/proc/<pid>/cgroup):
// `exec` puts its process where the container's init is, not where ctc
// remembers putting it (the init may be in a cgroup the plan did not make).

import { readFileSync } from 'node:fs';

/** One line of /proc/<pid>/cgroup: a v1 hierarchy's controllers (sorted), [] for the v2 tree. */
export interface Membership {
  controllers: string[];
  path: string;
}

export const cgroupsOf = (pid: number): Membership[] => parseCgroups(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));

/** A /proc/<pid>/cgroup text: `id:controllers:path` lines. */
export function parseCgroups(text: string): Membership[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [, controllers, ...path] = line.split(':');
      return { controllers: controllers.split(',').filter(Boolean).sort(), path: path.join(':') };
    });
}

/** The cgroup of this hierarchy ([] controllers: the v2 tree) that peer is in and pid is not, if any. */
export function toJoin(controllers: string[], peer: Membership[], pid: Membership[]): string | undefined {
  const key = [...controllers].sort().join(',');
  const of = (m: Membership[]) => m.find((x) => x.controllers.join(',') === key)?.path;
  const theirs = of(peer);
  return theirs !== undefined && theirs !== of(pid) ? theirs : undefined;
}
