// The state dir of a container: <root>/<id>, holding the journal, the state
// (state.json, the OCI state plus what ctc needs) and the empty directory
// that a tmpfs root is mounted on inside the container's mount namespace.

import { existsSync, mkdirSync, readdirSync, rmdirSync, unlinkSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { CtcError } from '../compiler/error.ts';
import { codeOf } from './errno.ts';

export const defaultStateRoot = '/run/ctc';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export interface ContainerState {
  ociVersion: string;
  id: string;
  status: Status;
  pid: number;
  bundle: string;
  created: string;
  annotations?: Record<string, string>;
}

const files = ['journal', 'state.json', 'state.json.tmp'];
const dirs = ['rootfs'];

export function assertNoState(dir: string, id: string): void {
  if (existsSync(dir)) {
    throw new CtcError('CT_STATE_EXISTS', `a container with id '${id}' already exists (${dir})`, {
      hint: 'pick another id, or remove the old one with `ctc delete --force`',
    });
  }
}

export function createStateDir(dir: string, id: string): void {
  assertNoState(dir, id);
  mkdirSync(join(dir, '..'), { recursive: true, mode: 0o711 });
  mkdirSync(dir, { mode: 0o711 });
  for (const d of dirs) mkdirSync(join(dir, d), { mode: 0o755 });
}

/**
 * Removes exactly what ctc puts in a state dir, then the dir. Never
 * recursive: if a mount leaked onto rootfs/, rmdir fails instead of
 * deleting through it.
 */
export function removeStateDir(dir: string): void {
  for (const f of files) {
    try {
      unlinkSync(join(dir, f));
    } catch (e) {
      if (codeOf(e) !== 'ENOENT') throw e;
    }
  }
  for (const d of [...dirs, '']) {
    try {
      rmdirSync(join(dir, d));
    } catch (e) {
      if (codeOf(e) === 'ENOENT') continue;
      if (codeOf(e) === 'ENOTEMPTY') throw new Error(`${join(dir, d)} holds files ctc did not write: ${readdirSync(join(dir, d)).join(', ')}`);
      throw e;
    }
  }
}

export function writeState(dir: string, state: ContainerState): void {
  const tmp = join(dir, 'state.json.tmp');
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  renameSync(tmp, join(dir, 'state.json'));
}
