// The host steps that both a run (apply.ts) and a restore (checkpoint.ts)
// apply the same way: each journals its undo before it acts.

import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type Step, list, str } from '../../plan/steps.ts';
import { type CgroupDriver, isLimitKey } from './cgroups/index.ts';
import { codeOf } from '../../common/errno.ts';
import type { Journal } from '../run/journal.ts';
import { claimStateDir, fillStateDir, stateFiles, writeStateDirFile } from '../container/state.ts';

/** state.create: claims the id (mkdir), then the journal lives in the dir, beside the plan. */
export function createStateDir(step: Step, id: string, planText: string, journal: Journal): void {
  const dir = str(step, 'dir');
  // Journaled once it is ours: a dir another create claimed first is never undone by this one.
  claimStateDir(dir, id);
  journal.record({ undo: 'state.remove', step: step.n, dir });
  fillStateDir(dir);
  // the plan first: a journal (which names it by digest) never exists without it
  writeStateDirFile(dir, stateFiles.plan, planText); // 0600: the plan holds the container's env
  journal.attach(dir, planText);
}

/** cgroup.create: an existing cgroup (another container's, a pod's) is joined, and never removed by this one. */
export function createOwnCgroup(step: Step, driver: CgroupDriver, journal: Journal): void {
  const path = str(step, 'path');
  if (driver.exists(path)) return;
  const parents = ancestors(path).filter((p) => !driver.exists(p));
  journal.record({ undo: 'cgroup.remove', step: step.n, path, ...(parents.length ? { parents } : {}) });
  createCgroup(driver, path);
}

export function setLimit(step: Step, driver: CgroupDriver): void {
  const key = str(step, 'key');
  if (!isLimitKey(key)) throw Object.assign(new Error(`unknown limit ${key}`), { code: 'EINVAL' });
  driver.limit(str(step, 'path'), key, str(step, 'value'));
}

export const setDevices = (step: Step, driver: CgroupDriver) => driver.devices(str(step, 'path'), list(step, 'rules'));

/** state.file: a generated file (hosts, resolv.conf) in the state dir, to be bound in; it goes with the dir. 0644: the container's users read it. */
export const writeStateFile = (step: Step, stateDir: string) =>
  writeFileSync(join(stateDir, basename(str(step, 'name'))), str(step, 'data'), { mode: 0o644 });

/** /a/b/c → /a, /a/b */
const ancestors = (path: string) => {
  const parts = path.split('/').filter(Boolean);
  return parts.slice(0, -1).map((_, i) => '/' + parts.slice(0, i + 1).join('/'));
};

/** Another container may remove an empty parent at the same moment: try again then. */
export function createCgroup(driver: CgroupDriver, path: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      return driver.create(path);
    } catch (e) {
      if (codeOf(e) !== 'ENOENT' || attempt >= 5) throw e;
    }
  }
}
