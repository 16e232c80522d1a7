// The state dir of a container: <root>/<id>. It holds the journal, the
// container's state (state.json), the plan it runs (for exec), the exec fifo
// while it waits for `start`, the exit status a detached monitor records,
// and the empty directory a tmpfs root is mounted on inside the container's
// own mount namespace.

import {
  type Stats,
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { CtcError } from '../../common/error.ts';
import { codeOf } from '../../common/errno.ts';

/**
 * The default state root. Root: /run/ctc. An ordinary user: $XDG_RUNTIME_DIR/ctc
 * (a dir of the user's own, as rootless runc's), else /tmp/ctc-UID, which
 * checkStateRoot makes 0700 or takes only if it is already the user's own
 * 0700 dir: in /tmp anyone may have made it first. The native launcher
 * (native/launcher/main.c) knows only root's: it hands an ordinary user's
 * commands to the CLI, and a root it would not take (root_is_plain) too.
 */
export const defaultStateRoot =
  process.geteuid?.() === 0
    ? '/run/ctc'
    : process.env.XDG_RUNTIME_DIR
      ? join(process.env.XDG_RUNTIME_DIR, 'ctc')
      : `/tmp/ctc-${process.geteuid?.()}`;

/**
 * Modes under the state root. The root and each state dir are 0711, not
 * 0700: a user-namespaced container's init is an unprivileged host uid
 * that mounts its root and its files (hosts, resolv.conf) from its state
 * dir, so it must pass through; nobody can list either. Everything in a
 * state dir is 0600 (the plan holds the container's env), but for the
 * files bound into the container. The image cache is 0700 (unpack.ts).
 */
export const stateModes = { root: 0o711, dir: 0o711, file: 0o600 } as const;

const unsafe = (root: string, why: string) =>
  new CtcError('CT_STATE_UNSAFE', `the state root ${root} ${why}: ctc will not trust what is in it`, {
    hint: 'give --root a directory of your own that others cannot write (or, as an ordinary user, set XDG_RUNTIME_DIR)',
  });

/**
 * A state root ctc may trust: its journals run hooks and remove paths. One
 * that is missing is fine (made on the first create). One owned by someone
 * other than this user (or root), or that others may write, is refused; one
 * of ours that others may read or write is tightened. /tmp/ctc-UID must be
 * the user's own real 0700 directory, and is made so when missing.
 */
export function checkStateRoot(root: string): void {
  const uid = process.geteuid?.() ?? 0;
  const fallback = root === `/tmp/ctc-${uid}` && root === defaultStateRoot;
  if (fallback) mkdirQuiet(root, 0o700);
  let st: Stats;
  try {
    // the root itself is taken as it is: a symlink to it is the caller's choice, but for the one in /tmp
    st = fallback ? lstatSync(root) : statSync(root);
  } catch (e) {
    if (codeOf(e) === 'ENOENT') return;
    throw unsafe(root, `cannot be examined (${codeOf(e)})`);
  }
  if (!st.isDirectory()) throw unsafe(root, 'is not a directory');
  if (fallback && (st.uid !== uid || (st.mode & 0o777) !== 0o700))
    throw unsafe(root, `is not uid ${uid}'s own 0700 directory (another user made it first?)`);
  if (st.uid !== uid && st.uid !== 0) throw unsafe(root, `belongs to uid ${st.uid}, not to ${uid === 0 ? 'root' : `uid ${uid} or root`}`);
  const writable = (st.mode & 0o022) !== 0;
  // root's dir, used by an ordinary user; or a shared one such as /tmp (sticky): never ours to tighten
  if (writable && (st.uid !== uid || st.mode & 0o1000)) throw unsafe(root, 'is writable by others');
  if (st.uid === uid && st.mode & 0o066) chmodSync(root, st.mode & 0o7711);
}

function mkdirQuiet(dir: string, mode: number): void {
  try {
    mkdirSync(dir, { mode });
  } catch (e) {
    if (codeOf(e) !== 'EEXIST') throw unsafe(dir, `cannot be made (${codeOf(e)})`);
  }
}

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
  /** the namespaces ctc made for the init (exec joins what the running init is in, read from /proc) */
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
      runtime: 'container with given ID already exists', // runc's words
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
  mkdirSync(join(dir, '..'), { recursive: true, mode: stateModes.root });
  try {
    mkdirSync(dir, { mode: stateModes.dir });
  } catch (e) {
    if (codeOf(e) === 'EEXIST') assertNoState(dir, id);
    throw e;
  }
}

/** What goes in a claimed state dir before anything else (the journal, 0600, is journal.ts's to make). */
export function fillStateDir(dir: string): void {
  for (const d of subdirs) mkdirSync(join(dir, d), { mode: 0o755 });
}

/** A file of ctc's own in a state dir (0600), replaced atomically; a temp file a crash left is ours to remove. */
export function writeStateDirFile(dir: string, name: string, data: string): void {
  const tmp = join(dir, `${name}.tmp`);
  rmSync(tmp, { force: true });
  writeFileSync(tmp, data, { mode: stateModes.file, flag: 'wx' });
  renameSync(tmp, join(dir, name));
}

/**
 * Removes the files in a state dir (ctc's own and the monitor's), its known
 * subdirectories, then the dir. Never recursive: if a mount leaked onto
 * rootfs/, rmdir fails instead of deleting through it. A monitor whose init
 * just died may still write `exit` (a temp file, then a rename) through the
 * dir fd it holds, after the dir was emptied: rmdir then finds it, and the
 * dir is emptied again. A monitor adds at most its temp file, then `exit`:
 * the passes outlast it. Once the dir is gone a late write fails (a removed
 * dir takes no new names). native/launcher/files.c does the same.
 */
export function removeStateDir(dir: string): void {
  for (let pass = 1; ; pass++) {
    if (!emptyStateDir(dir)) return;
    try {
      for (const d of [...subdirs, '']) rmdirQuiet(join(dir, d));
      return;
    } catch (e) {
      if (codeOf(e) !== 'ENOTEMPTY' || pass === stateDirPasses) throw notOurs(dir, e);
    }
  }
}

const stateDirPasses = 4;

/** Unlinks the files in a state dir; false if there is no dir. */
function emptyStateDir(dir: string): boolean {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if (codeOf(e) === 'ENOENT') return false;
    throw e;
  }
  for (const e of entries) if (!e.isDirectory()) unlinkQuiet(join(dir, e.name));
  return true;
}

function rmdirQuiet(dir: string): void {
  try {
    rmdirSync(dir);
  } catch (e) {
    if (codeOf(e) !== 'ENOENT') throw e;
  }
}

/** A dir still not empty after the passes (node's error names it in .path): it holds what is not ctc's. */
function notOurs(dir: string, e: unknown): unknown {
  if (codeOf(e) !== 'ENOTEMPTY') return e;
  const path = (e as { path?: string }).path ?? dir;
  return new Error(`${path} holds entries ctc did not make: ${readdirSync(path).join(', ')}`);
}

function unlinkQuiet(file: string): void {
  try {
    unlinkSync(file);
  } catch (e) {
    if (codeOf(e) !== 'ENOENT') throw e;
  }
}

export const writeState = (dir: string, state: ContainerState) =>
  writeStateDirFile(dir, stateFiles.state, JSON.stringify(state, null, 2) + '\n');

export function readState(dir: string): ContainerState | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, stateFiles.state), 'utf8')) as ContainerState;
  } catch {
    return undefined;
  }
}
