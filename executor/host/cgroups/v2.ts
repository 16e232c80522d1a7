// cgroup v2: one tree. Controllers must be enabled in every ancestor's
// cgroup.subtree_control before a child can use them.

import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CtcError } from '../../../common/error.ts';
import { attachDeviceFilter, compileDeviceFilter } from './device-filter.ts';
import type { CgroupDriver, CgroupMount, DeviceWrites, FileWrite, Previous } from './driver.ts';
import { ensureDir, pidsIn, poll, readValue, removeCgroupDir, rmdirIfEmpty, writeValue } from './files.ts';
import { type LimitKey, v2Writes } from './keys.ts';
import { type Membership, cgroupsOf, toJoin } from './membership.ts';
import { MAX_U64, type Stats, blkioV2, keyed, num, scale } from './stats.ts';

export class CgroupV2 implements CgroupDriver {
  readonly layout = 'v2';
  constructor(readonly root = '/sys/fs/cgroup') {}

  private dir(path: string): string {
    return join(this.root, path);
  }

  /** The controllers this tree offers (on a hybrid host, few or none). */
  controllers(): string[] {
    return (readValue(join(this.root, 'cgroup.controllers')) ?? '').split(' ').filter(Boolean);
  }

  exists(path: string): boolean {
    return existsSync(this.dir(path));
  }

  /** Creates the cgroup with every controller the tree offers enabled down to it, parents first. */
  create(path: string): void {
    const enable = this.controllers();
    const parts = path.split('/').filter(Boolean);
    for (let i = 0; i < parts.length; i++) {
      const parent = join(this.root, ...parts.slice(0, i));
      ensureDir(parent);
      const on = (readValue(join(parent, 'cgroup.subtree_control')) ?? '').split(' ');
      const missing = enable.filter((c) => !on.includes(c));
      if (missing.length) writeValue(join(parent, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
    }
    mkdirSync(this.dir(path));
  }

  limit(path: string, key: LimitKey, value: string): Previous[] {
    const dir = this.dir(path);
    for (const [controller, file] of v2Writes(key, value, () => undefined)) {
      if (!existsSync(join(dir, file))) {
        throw new CtcError('CT_CGROUP_LAYOUT', `${file} does not exist in ${dir}: the ${controller} controller is not enabled there`, {
          hint: `this host's cgroup v2 tree offers: ${this.controllers().join(' ') || 'no controllers'}`,
        });
      }
    }
    return this.limitWrites(path, key, value).map(([file, v]) => {
      const before = readValue(file);
      writeValue(file, v);
      return [file, before];
    });
  }

  limitWrites(path: string, key: LimitKey, value: string, read = readValue): FileWrite[] {
    const dir = this.dir(path);
    return v2Writes(key, value, (f) => read(join(dir, f))).map(([, file, v]): FileWrite => [join(dir, file), v]);
  }

  devices(path: string, rules: string[]): void {
    if (rules.length) attachDeviceFilter(this.dir(path), rules);
  }

  deviceWrites(path: string, rules: string[]): DeviceWrites {
    return rules.length ? { filter: { dir: this.dir(path), program: compileDeviceFilter(rules) } } : { files: [] };
  }

  join(path: string, pid: number): void {
    writeValue(join(this.dir(path), 'cgroup.procs'), String(pid));
  }

  joinPeer(peer: Membership[], pid: number): void {
    const path = toJoin([], peer, cgroupsOf(pid));
    if (path !== undefined) this.join(path, pid);
  }

  /** Every process in the cgroup at once (cgroup.kill, Linux 5.14), else one by one. */
  killAll(path: string): boolean {
    const file = join(this.dir(path), 'cgroup.kill');
    if (!existsSync(file)) return false;
    writeValue(file, '1');
    return true;
  }

  remove(path: string): void {
    try {
      this.killAll(path);
    } catch {
      // removeCgroupDir kills one by one and reports what matters
    }
    removeCgroupDir(this.dir(path));
  }

  removeIfEmpty(path: string): void {
    rmdirIfEmpty(this.dir(path));
  }

  pids(path: string): number[] {
    return pidsIn(this.dir(path));
  }

  mounts(): CgroupMount[] {
    return [{ kind: 'cgroup2', sub: '', host: this.root }];
  }

  async freeze(path: string): Promise<void> {
    writeValue(join(this.dir(path), 'cgroup.freeze'), '1');
    await poll(() => this.isFrozen(path), `${path} to freeze`);
  }

  async thaw(path: string): Promise<void> {
    if (!existsSync(join(this.dir(path), 'cgroup.freeze'))) return;
    writeValue(join(this.dir(path), 'cgroup.freeze'), '0');
    await poll(() => !this.isFrozen(path), `${path} to thaw`);
  }

  isFrozen(path: string): boolean {
    return /^frozen 1$/m.test(readValue(join(this.dir(path), 'cgroup.events')) ?? '');
  }

  oomKills(path: string): number {
    return Number(keyed(join(this.dir(path), 'memory.events')).oom_kill ?? 0);
  }

  stats(path: string): Stats {
    const d = (f: string) => join(this.dir(path), f);
    const cpu = keyed(d('cpu.stat'));
    const mem = keyed(d('memory.stat'));
    const events = keyed(d('memory.events'));
    const hugetlb: Stats['hugetlb'] = {};
    for (const size of hugepageSizes(this.dir(path))) {
      hugetlb[size] = {
        usage: num(d(`hugetlb.${size}.current`)),
        max: num(d(`hugetlb.${size}.max`)),
        failcnt: keyed(d(`hugetlb.${size}.events`)).max ?? 0,
      };
    }
    return {
      // v2 reports microseconds; runc's shape has nanoseconds
      cpu: {
        usage: {
          total: scale(cpu.usage_usec ?? 0, 1000),
          kernel: scale(cpu.system_usec ?? 0, 1000),
          user: scale(cpu.user_usec ?? 0, 1000),
        },
        throttling: {
          periods: cpu.nr_periods,
          throttledPeriods: cpu.nr_throttled,
          throttledTime: cpu.throttled_usec && scale(cpu.throttled_usec, 1000),
        },
      },
      memory: {
        usage: {
          limit: num(d('memory.max')) ?? MAX_U64,
          usage: num(d('memory.current')),
          max: num(d('memory.peak')),
          failcnt: events.max ?? 0,
        },
        swap: {
          limit: num(d('memory.swap.max')) ?? MAX_U64,
          usage: num(d('memory.swap.current')),
          failcnt: keyed(d('memory.swap.events')).max ?? 0,
        },
        raw: mem,
      },
      pids: { current: num(d('pids.current')), limit: num(d('pids.max')) },
      blkio: blkioV2(d('io.stat')),
      hugetlb,
    };
  }
}

function hugepageSizes(dir: string): string[] {
  try {
    return readdirSync(dir)
      .map((f) => /^hugetlb\.(\w+)\.max$/.exec(f)?.[1])
      .filter((s): s is string => s !== undefined);
  } catch {
    return [];
  }
}
