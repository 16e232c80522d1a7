// Undoing a journal, newest entry first. Used for rollback inside a run
// (the entries in memory) and by `delete` (the journal file), so a crashed
// or detached run is cleaned up the same way. Every undo may be repeated.

import { CtcError } from '../../common/error.ts';
import type { CgroupDriver } from '../host/cgroups/index.ts';
import { codeOf } from '../../common/errno.ts';
import type { Undo } from './journal.ts';
import { releaseAddress } from '../host/ipam.ts';
import { deleteLink, inNetns, releaseBridge, unpublish } from '../host/network.ts';
import { isAlive, waitGone } from '../container/proc.ts';
import { readState, removeStateDir } from '../container/state.ts';
import { type HookSpec, hookStateOf, runHook } from '../host/hooks.ts';
import { basename } from 'node:path';

export async function undoAll(entries: Undo[], cgroups: () => CgroupDriver): Promise<void> {
  const failures: string[] = [];
  const cgroupPaths = entries.flatMap((e) => (e.undo === 'cgroup.remove' ? [e.path] : []));
  for (const entry of [...entries].reverse()) {
    try {
      await undoOne(entry, cgroups, cgroupPaths);
    } catch (e) {
      failures.push(`undo of step ${entry.step} (${entry.undo}): ${(e as Error).message}`);
    }
  }
  if (failures.length) {
    throw new CtcError('CT_ROLLBACK', `could not undo everything:\n  ${failures.join('\n  ')}`, {
      hint: 'what is listed is still on the host; remove it by hand',
    });
  }
}

async function undoOne(entry: Undo, cgroups: () => CgroupDriver, cgroupPaths: string[]): Promise<void> {
  switch (entry.undo) {
    case 'init.kill':
      return killInit(entry.pid, entry.startTime, cgroups, cgroupPaths);
    case 'cgroup.remove': {
      const driver = cgroups();
      await driver.thaw(entry.path);
      driver.remove(entry.path);
      for (const parent of [...(entry.parents ?? [])].reverse()) driver.removeIfEmpty(parent);
      return;
    }
    case 'cgroup.restore':
      // a container being removed takes its limits with it; only a failed update restores them
      return;
    case 'state.remove':
      return removeStateDir(entry.dir);
    case 'net.bridge.release':
      return inNetns(entry.netns, () => releaseBridge(entry.name));
    case 'net.link.remove':
      return inNetns(entry.netns, () => deleteLink(entry.name, entry.alias));
    case 'net.ipam.release':
      return releaseAddress(entry.file, entry.id);
    case 'net.unpublish':
      return inNetns(entry.netns, () => unpublish(entry.table, entry.id));
    case 'hook.poststop':
      return poststop(entry.dir, entry.hook);
  }
}

/** A poststop hook fails with a warning only: the container is gone either way. */
function poststop(dir: string, hook: HookSpec): void {
  const s = readState(dir);
  const state = s
    ? hookStateOf(s, 'poststop')
    : { ociVersion: '1.2.0', id: basename(dir), status: 'stopped', pid: 0, bundle: '', annotations: {} };
  const failure = runHook(hook, state);
  if (failure) process.stderr.write(`ctc: warning: ${failure}\n`);
}

/** SIGKILL for the init (only if that pid is still our init); a frozen init is thawed so it can die. */
async function killInit(pid: number, startTime: number, cgroups: () => CgroupDriver, cgroupPaths: string[]): Promise<void> {
  if (!isAlive(pid, startTime)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch (e) {
    if (codeOf(e) !== 'ESRCH') throw e;
  }
  if (await waitGone(pid, startTime, 200)) return;
  for (const path of cgroupPaths) await cgroups().thaw(path);
  if (!(await waitGone(pid, startTime))) throw new Error(`the init (pid ${pid}) did not die after SIGKILL`);
}
