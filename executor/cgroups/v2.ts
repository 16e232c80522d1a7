// cgroup v2: one tree. Controllers must be enabled in every ancestor's
// cgroup.subtree_control before a child can use them.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { attachDeviceFilter } from './device-filter.ts';
import type { CgroupDriver, CgroupMount, LimitKey } from './driver.ts';
import { ensureDir, pidsIn, poll, readValue, removeCgroupDir, writeValue } from './files.ts';

const wanted = ['cpu', 'memory', 'pids'];

export class CgroupV2 implements CgroupDriver {
  readonly layout = 'v2';
  constructor(readonly root = '/sys/fs/cgroup') {}

  private dir(path: string): string {
    return join(this.root, path);
  }

  exists(path: string): boolean {
    return existsSync(this.dir(path));
  }

  create(path: string): void {
    const available = (readValue(join(this.root, 'cgroup.controllers')) ?? '').split(' ');
    const enable = wanted.filter((c) => available.includes(c));
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

  limit(path: string, key: LimitKey, value: string): void {
    const dir = this.dir(path);
    switch (key) {
      case 'memory.limit':
        return writeValue(join(dir, 'memory.max'), value);
      case 'memory.swap': {
        // OCI gives memory+swap; v2 counts swap alone.
        const limit = Number(readValue(join(dir, 'memory.max')));
        return writeValue(join(dir, 'memory.swap.max'), String(Number(value) - limit));
      }
      case 'pids.limit':
        return writeValue(join(dir, 'pids.max'), value);
      case 'cpu.shares':
        // The conversion runc and crun use: shares 2..262144 onto weight 1..10000.
        return writeValue(join(dir, 'cpu.weight'), String(1 + Math.floor(((Number(value) - 2) * 9999) / 262142)));
      case 'cpu.max':
        return writeValue(join(dir, 'cpu.max'), value);
    }
  }

  devices(path: string, rules: string[]): void {
    if (rules.length) attachDeviceFilter(this.dir(path), rules);
  }

  join(path: string, pid: number): void {
    writeValue(join(this.dir(path), 'cgroup.procs'), String(pid));
  }

  remove(path: string): void {
    const dir = this.dir(path);
    if (existsSync(join(dir, 'cgroup.kill'))) {
      try {
        writeValue(join(dir, 'cgroup.kill'), '1');
      } catch {
        // removeCgroupDir kills one by one and reports what matters
      }
    }
    removeCgroupDir(dir);
  }

  pids(path: string): number[] {
    return pidsIn(this.dir(path));
  }

  mounts(): CgroupMount[] {
    return [{ kind: 'cgroup2', sub: '' }];
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
}
