// Small file operations the cgroup drivers share. Errors keep their errno
// (err.code) so the failing step can name it.

import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { codeOf } from '../../../common/errno.ts';

export function writeValue(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    err.message = `writing '${value}' to ${file}: ${err.code}`;
    throw err;
  }
}

export function readValue(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Makes a shared parent directory (such as /ctc) if it is missing; it stays. */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    if (codeOf(e) !== 'EEXIST') throw e; // another container made it first
  }
}

/** rmdir that leaves a directory in use (or already gone) alone. */
export function rmdirIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch (e) {
    if (!['ENOENT', 'ENOTEMPTY', 'EBUSY'].includes(codeOf(e) ?? '')) throw e;
  }
}

export function pidsIn(dir: string): number[] {
  return (readValue(`${dir}/cgroup.procs`) ?? '').split('\n').filter(Boolean).map(Number);
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Kills whatever is left in the cgroup and removes it. A cgroup with tasks
 * (or, on v1, tasks still exiting) cannot be removed, so it retries briefly.
 * A cgroup that is already gone is fine: undo must be safe to repeat.
 */
export function removeCgroupDir(dir: string): void {
  for (let attempt = 0; ; attempt++) {
    for (const pid of pidsIn(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    try {
      rmdirSync(dir);
      return;
    } catch (e) {
      if (codeOf(e) === 'ENOENT') return;
      if (codeOf(e) !== 'EBUSY' || attempt >= 200) throw e;
      sleep(10);
    }
  }
}

/** Polls until done() holds, up to ms; throws ETIMEDOUT naming what. */
export async function poll(done: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) {
      const err = new Error(`timed out waiting for ${what}`) as NodeJS.ErrnoException;
      err.code = 'ETIMEDOUT';
      throw err;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}
