// Operations on a running container's cgroup: update (journaled, and put
// back as it was if any write fails), stats, and the event stream with OOM
// notices, as libcontainer's Set, Stats and NotifyOOM.

import { writeFileSync } from 'node:fs';
import { CtcError } from '../../common/error.ts';
import { type SpecResources, cgroupLimits } from '../../plan/limits.ts';
import { detectCgroups, isLimitKey } from '../host/cgroups/index.ts';
import { type Stats, statsJson } from '../host/cgroups/stats.ts';
import type { Container } from './container.ts';
import { codeOf } from '../../common/errno.ts';
import { Journal } from '../run/journal.ts';

export async function updateResources(c: Container, resources: Omit<SpecResources, 'devices'>): Promise<void> {
  const status = c.status();
  if (!['created', 'running', 'paused'].includes(status)) {
    throw new CtcError('CT_BAD_STATE', `cannot update container ${c.id}: it is ${status}`, { runtime: 'container not running' }); // runc's words
  }
  const driver = detectCgroups();
  const path = c.state!.cgroupPath;
  const journal = new Journal();
  journal.attach(c.dir);
  const written: [string, string | undefined][] = [];
  for (const { key, value } of cgroupLimits(resources)) {
    if (!isLimitKey(key)) continue;
    try {
      const previous = driver.limit(path, key, value);
      written.push(...previous);
      journal.record({ undo: 'cgroup.restore', step: 0, files: previous });
    } catch (e) {
      restore(written);
      if (e instanceof CtcError) throw e;
      throw new CtcError('CT_STEP_FAILED', `update of ${key} to ${value} failed, and the limits set before it were put back`, {
        errno: codeOf(e),
        hint: (e as Error).message,
      });
    }
  }
}

/** Puts files back as they were, newest first; a value the kernel refuses back is left. */
function restore(files: [string, string | undefined][]): void {
  for (const [file, content] of [...files].reverse()) {
    if (content === undefined) continue;
    try {
      writeFileSync(file, content.split('\n')[0]);
    } catch {
      // e.g. memsw below memory: the cgroup is then as close as it can be
    }
  }
}

export interface StatsEvent {
  type: 'stats';
  id: string;
  data: Stats;
}

export function statsOf(c: Container): StatsEvent {
  const status = c.status();
  if (status === 'stopped')
    throw new CtcError('CT_BAD_STATE', `container ${c.id} is not running`, { runtime: `container with id ${c.id} is not running` }); // runc's words
  return { type: 'stats', id: c.id, data: detectCgroups().stats(c.state!.cgroupPath) };
}

/**
 * Streams events as JSON lines until the container stops: stats every
 * interval, and an `oom` event whenever the kernel's OOM kill count grows
 * (read from memory.oom_control on v1, memory.events on v2).
 */
export async function streamEvents(c: Container, intervalMs: number, write: (line: string) => void): Promise<void> {
  const driver = detectCgroups();
  const path = c.state!.cgroupPath;
  let kills = driver.oomKills(path);
  let nextStats = 0;
  while (c.status() !== 'stopped') {
    const now = Date.now();
    const k = driver.oomKills(path);
    for (; kills < k; kills++) write(JSON.stringify({ type: 'oom', id: c.id }));
    if (now >= nextStats) {
      let stats: StatsEvent;
      try {
        stats = statsOf(c);
      } catch (e) {
        if (c.status() === 'stopped') break; // it stopped since the loop looked: the end, not an error
        throw e;
      }
      write(statsJson(stats));
      nextStats = now + intervalMs;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const k = driver.oomKills(path);
  for (; kills < k; kills++) write(JSON.stringify({ type: 'oom', id: c.id }));
}
