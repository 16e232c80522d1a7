// cgroup v1: one hierarchy per controller (or group of controllers), each
// mounted on its own; on a hybrid host also the cgroup2 tree (unified), which
// holds no controllers but still tracks the container's processes.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { codeOf } from '../../../common/errno.ts';
import type { CgroupDriver, CgroupMount, DeviceWrites, FileWrite, Previous } from './driver.ts';
import { type LimitKey, v1Writes } from './keys.ts';
import { type Stats, blkioV1, keyed, num, scale } from './stats.ts';
import { pidsIn, poll, readValue, removeCgroupDir, rmdirIfEmpty, writeValue } from './files.ts';
import { type Membership, cgroupsOf, toJoin } from './membership.ts';
import { CgroupV2 } from './v2.ts';

export interface Hierarchy {
  mountpoint: string;
  /** controllers, or name=... for a named hierarchy */
  controllers: string[];
}

const knownControllers = new Set([
  'cpu',
  'cpuacct',
  'cpuset',
  'memory',
  'devices',
  'freezer',
  'net_cls',
  'net_prio',
  'blkio',
  'perf_event',
  'hugetlb',
  'pids',
  'rdma',
  'misc',
]);

/** The v1 hierarchies and the cgroup2 mount (if any) in a mountinfo text. */
export function parseMountinfo(text: string): { hierarchies: Hierarchy[]; unified?: string } {
  const hierarchies: Hierarchy[] = [];
  let unified: string | undefined;
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const mountpoint = left.split(' ')[4];
    const [fstype, , superOptions = ''] = right.split(' ');
    if (fstype === 'cgroup2') unified ??= mountpoint;
    if (fstype !== 'cgroup') continue;
    const controllers = superOptions.split(',').filter((o) => knownControllers.has(o) || o.startsWith('name='));
    if (controllers.length) hierarchies.push({ mountpoint, controllers });
  }
  return { hierarchies, unified };
}

export class CgroupV1 implements CgroupDriver {
  readonly layout = 'v1';
  readonly hierarchies: Hierarchy[];
  private readonly unified?: CgroupV2;

  constructor(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')) {
    const found = parseMountinfo(mountinfo);
    this.hierarchies = found.hierarchies;
    if (found.unified) this.unified = new CgroupV2(found.unified);
  }

  private dirs(path: string): string[] {
    return this.hierarchies.map((h) => join(h.mountpoint, path));
  }

  private hierarchyOf(controller: string): Hierarchy {
    const h = this.hierarchies.find((x) => x.controllers.includes(controller));
    if (h) return h;
    const err = new Error(`the ${controller} controller is not mounted on this host`) as NodeJS.ErrnoException;
    err.code = 'ENOENT';
    throw err;
  }

  exists(path: string): boolean {
    return this.dirs(path).some((d) => existsSync(d)) || (this.unified?.exists(path) ?? false);
  }

  create(path: string): void {
    for (const h of this.hierarchies) createIn(h, path);
    this.unified?.create(path);
  }

  /**
   * On a hybrid host a controller may live in the v2 tree instead (hugetlb
   * here): such a limit goes there, as v2 writes it.
   */
  limit(path: string, key: LimitKey, value: string): Previous[] {
    if (this.limitsInV2(key, value)) return this.unified!.limit(path, key, value);
    return this.limitWrites(path, key, value).map(([file, v]) => {
      const before = readValue(file);
      writeValue(file, v);
      return [file, before];
    });
  }

  /** A key for the unified tree, or whose controller lives only there (hugetlb here). */
  private limitsInV2(key: LimitKey, value: string): boolean {
    if (!this.unified) return false;
    if (key === 'unified') return true;
    const offered = this.unified.controllers();
    return v1Writes(key, value).some(([c]) => offered.includes(c) && !this.hierarchies.some((h) => h.controllers.includes(c)));
  }

  limitWrites(path: string, key: LimitKey, value: string, read?: (file: string) => string | undefined): FileWrite[] {
    if (this.limitsInV2(key, value)) return this.unified!.limitWrites(path, key, value, read);
    return v1Writes(key, value).map(([controller, file, v]): FileWrite => [join(this.hierarchyOf(controller).mountpoint, path, file), v]);
  }

  devices(path: string, rules: string[]): void {
    for (const [file, v] of this.deviceFiles(path, rules)) writeValue(file, v);
  }

  deviceWrites(path: string, rules: string[]): DeviceWrites {
    return { files: this.deviceFiles(path, rules) };
  }

  private deviceFiles(path: string, rules: string[]): FileWrite[] {
    const dir = join(this.hierarchyOf('devices').mountpoint, path);
    return rules.map((rule) => {
      const [verb, ...rest] = rule.split(' ');
      return [join(dir, verb === 'allow' ? 'devices.allow' : 'devices.deny'), rest.join(' ')];
    });
  }

  join(path: string, pid: number): void {
    for (const dir of this.dirs(path)) writeValue(join(dir, 'cgroup.procs'), String(pid));
    this.unified?.join(path, pid);
  }

  joinPeer(peer: Membership[], pid: number): void {
    const own = cgroupsOf(pid);
    for (const h of this.hierarchies) {
      const path = toJoin(h.controllers, peer, own);
      if (path !== undefined) writeValue(join(h.mountpoint, path, 'cgroup.procs'), String(pid));
    }
    this.unified?.joinPeer(peer, pid);
  }

  remove(path: string): void {
    for (const dir of this.dirs(path)) removeCgroupDir(dir);
    this.unified?.remove(path);
  }

  removeIfEmpty(path: string): void {
    for (const dir of this.dirs(path)) rmdirIfEmpty(dir);
    this.unified?.removeIfEmpty(path);
  }

  pids(path: string): number[] {
    const memory = this.hierarchies.find((h) => h.controllers.includes('memory')) ?? this.hierarchies[0];
    return memory ? pidsIn(join(memory.mountpoint, path)) : [];
  }

  private freezerState(path: string): string | undefined {
    const h = this.hierarchies.find((x) => x.controllers.includes('freezer'));
    return h && join(h.mountpoint, path, 'freezer.state');
  }

  async freeze(path: string): Promise<void> {
    const file = join(this.hierarchyOf('freezer').mountpoint, path, 'freezer.state');
    // The state reads FREEZING until every task has stopped; asking again
    // catches tasks forked meanwhile, as runc does.
    await poll(() => {
      writeValue(file, 'FROZEN');
      return readValue(file) === 'FROZEN';
    }, `${path} to freeze`);
  }

  async thaw(path: string): Promise<void> {
    const file = this.freezerState(path);
    if (!file || !existsSync(file)) return;
    writeValue(file, 'THAWED');
    await poll(() => readValue(file) === 'THAWED', `${path} to thaw`);
  }

  private file(controller: string, path: string, file: string): string {
    const h = this.hierarchies.find((x) => x.controllers.includes(controller));
    return h ? join(h.mountpoint, path, file) : '/nonexistent';
  }

  oomKills(path: string): number {
    return Number(keyed(this.file('memory', path, 'memory.oom_control')).oom_kill ?? 0);
  }

  stats(path: string): Stats {
    const f = (c: string, file: string) => this.file(c, path, file);
    const percpu = (readValue(f('cpuacct', 'cpuacct.usage_percpu')) ?? '').split(' ').filter(Boolean).map(Number);
    const ticks = keyed(f('cpuacct', 'cpuacct.stat'));
    const tick = 1e9 / 100; // USER_HZ: cpuacct.stat counts in 1/100 s
    const throttle = keyed(f('cpu', 'cpu.stat'));
    const entry = (prefix: string) => ({
      limit: num(f('memory', `${prefix}.limit_in_bytes`)) ?? 0,
      usage: num(f('memory', `${prefix}.usage_in_bytes`)),
      max: num(f('memory', `${prefix}.max_usage_in_bytes`)),
      failcnt: num(f('memory', `${prefix}.failcnt`)) ?? 0,
    });
    const unified = this.unified?.exists(path) ? this.unified.stats(path) : undefined;
    return {
      cpu: {
        usage: {
          total: num(f('cpuacct', 'cpuacct.usage')),
          percpu,
          kernel: scale(ticks.system ?? 0, tick),
          user: scale(ticks.user ?? 0, tick),
        },
        throttling: { periods: throttle.nr_periods, throttledPeriods: throttle.nr_throttled, throttledTime: throttle.throttled_time },
      },
      memory: { usage: entry('memory'), swap: entry('memory.memsw'), raw: keyed(f('memory', 'memory.stat')) },
      pids: { current: num(f('pids', 'pids.current')), limit: num(f('pids', 'pids.max')) },
      blkio: {
        ioServiceBytesRecursive: blkioV1(f('blkio', 'blkio.throttle.io_service_bytes_recursive')),
        ioServicedRecursive: blkioV1(f('blkio', 'blkio.throttle.io_serviced_recursive')),
      },
      // hugetlb lives in the v2 tree on hybrid hosts like this one
      hugetlb: unified?.hugetlb ?? {},
    };
  }

  isFrozen(path: string): boolean {
    const file = this.freezerState(path);
    return file !== undefined && readValue(file) === 'FROZEN';
  }

  mounts(): CgroupMount[] {
    const out: CgroupMount[] = [{ kind: 'tmpfs', sub: '' }];
    for (const h of this.hierarchies) {
      const sub = basename(h.mountpoint);
      out.push({ kind: 'cgroup', sub, data: h.controllers.join(','), host: h.mountpoint });
      // Co-mounted controllers (cpu,cpuacct) are also reachable by each name.
      for (const c of h.controllers) if (c !== sub && !c.startsWith('name=')) out.push({ kind: 'symlink', sub: c, data: sub });
    }
    if (this.unified) out.push({ kind: 'cgroup2', sub: basename(this.unified.root), host: this.unified.root });
    out.push({ kind: 'remount-ro', sub: '' });
    return out;
  }
}

/**
 * Creates path in one hierarchy: parents as needed (shared, they stay), the
 * cgroup itself strictly. A new cpuset cgroup has no CPUs or memory nodes and
 * refuses tasks, so each new level inherits its parent's.
 */
function createIn(h: Hierarchy, path: string): void {
  const parts = path.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const dir = join(h.mountpoint, ...parts.slice(0, i));
    const leaf = i === parts.length;
    if (!leaf && existsSync(dir)) continue;
    try {
      mkdirSync(dir);
    } catch (e) {
      if (leaf || codeOf(e) !== 'EEXIST') throw e;
    }
    if (h.controllers.includes('cpuset')) {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        if (!readValue(join(dir, f))) writeValue(join(dir, f), readValue(join(dir, '..', f)) ?? '');
      }
    }
  }
}
