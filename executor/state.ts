// The state dir of a container: <root>/<id>. It holds the journal, the
// container's state (state.json), the plan it runs (for exec), the exec fifo
// while it waits for `start`, the exit status a detached monitor records,
// and the empty directory a tmpfs root is mounted on inside the container's
// own mount namespace.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CtcError } from '../compiler/error.ts';
import { codeOf } from './errno.ts';

/** /run/ctc for root; an ordinary user's is $XDG_RUNTIME_DIR/ctc (or /tmp/ctc-UID without one), as rootless runc does. */
export const defaultStateRoot =
  process.geteuid?.() === 0 ? '/run/ctc' : process.env.XDG_RUNTIME_DIR ? join(process.env.XDG_RUNTIME_DIR, 'ctc') : `/tmp/ctc-${process.geteuid?.()}`;

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** What ctc keeps about a container; `ctc state` prints the OCI part. */
export interface ContainerState {
  ociVersion: string;
  id: string;
  /** creating until the init is set up; then created (waits for start) or running */
  phase: 'creating' | 'created' | 'running';
  pid: number;
  /** the init's start time (/proc/<pid>/stat), so a reused pid is never taken for it */
  initStartTime: number;
  /** ctc-init staying behind as the monitor, if it did */
  monitorPid?: number;
  monitorStartTime?: number;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations: Record<string, string>;
  cgroupPath: string;
  /** the namespaces the init has, for exec to join */
  namespaces: string[];
  /** created apart from its start, with startContainer or poststart hooks: `start` runs them (the native launcher hands it over) */
  startHooks?: true;
}

export const stateFiles = {
  state: 'state.json',
  plan: 'plan',
  fifo: 'exec.fifo',
  exit: 'exit',
  journal: 'journal',
} as const;

const subdirs = ['rootfs'];

export function assertNoState(dir: string, id: string): void {
  if (existsSync(dir)) {
    throw new CtcError('CT_STATE_EXISTS', `a container with id '${id}' already exists (${dir})`, {
      hint: 'pick another id, or remove the old one with `ctc delete --force`',
    });
  }
}

/**
 * Makes the state dir; mkdir is the claim on the id: of two creates of one id
 * at once, exactly one gets it, and the other fails here with nothing of its
 * own to undo (so it never journals, and never removes, the winner's dir).
 */
export function claimStateDir(dir: string, id: string): void {
  assertNoState(dir, id);
  mkdirSync(join(dir, '..'), { recursive: true, mode: 0o711 });
  try {
    mkdirSync(dir, { mode: 0o711 });
  } catch (e) {
    if (codeOf(e) === 'EEXIST') assertNoState(dir, id);
    throw e;
  }
}

/** What goes in a claimed state dir before anything else. */
export function fillStateDir(dir: string): void {
  for (const d of subdirs) mkdirSync(join(dir, d), { mode: 0o755 });
}

/**
 * Removes the files in a state dir (ctc's own and the monitor's), its known
 * subdirectories, then the dir. Never recursive: if a mount leaked onto
 * rootfs/, rmdir fails instead of deleting through it.
 */
export function removeStateDir(dir: string): void {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if (codeOf(e) === 'ENOENT') return;
    throw e;
  }
  for (const e of entries) if (!e.isDirectory()) unlinkQuiet(join(dir, e.name));
  for (const d of [...subdirs, '']) {
    try {
      rmdirSync(join(dir, d));
    } catch (e) {
      if (codeOf(e) === 'ENOENT') continue;
      if (codeOf(e) === 'ENOTEMPTY') throw new Error(`${join(dir, d)} holds entries ctc did not make: ${readdirSync(join(dir, d)).join(', ')}`);
      throw e;
    }
  }
}

function unlinkQuiet(file: string): void {
  try {
    unlinkSync(file);
  } catch (e) {
    if (codeOf(e) !== 'ENOENT') throw e;
  }
}

export function writeState(dir: string, state: ContainerState): void {
  const tmp = join(dir, `${stateFiles.state}.tmp`);
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  renameSync(tmp, join(dir, stateFiles.state));
}

export function readState(dir: string): ContainerState | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, stateFiles.state), 'utf8')) as ContainerState;
  } catch {
    return undefined;
  }
}

/** Writes a pid file as runc does: the number alone, replaced atomically. */
export function writePidFile(file: string, pid: number): void {
  const tmp = `${file}.ctc-tmp`;
  writeFileSync(tmp, String(pid));
  renameSync(tmp, file);
}
