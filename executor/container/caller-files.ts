// Files the caller names (--pid-file, --log, checkpoint dirs) sit in
// directories ctc does not own: another user may have planted a symlink
// there, at the name or at the temp name beside it. ctc (running as root)
// never writes through one, as runc does not: a temp file made with
// O_CREAT|O_EXCL|O_NOFOLLOW beside the target, then renamed over it (rename
// replaces a symlink at the target, never follows it). A name that is taken
// is an error, not something to remove: it may not be ours. The native
// launcher does the same (native/launcher/files.c write_atomic).

import { closeSync, constants, lstatSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { CtcError } from '../../common/error.ts';
import { codeOf } from '../../common/errno.ts';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_APPEND } = constants;

/** The temp name a caller's file is written under: <file>.tmp, as the launcher's. */
export const tempName = (file: string) => `${file}.tmp`;

export function writeError(file: string, errno: string, what = 'cannot write'): CtcError {
  return new CtcError('CT_WRITE', `${what} ${file}`, {
    errno,
    hint:
      errno === 'EEXIST' || errno === 'ELOOP'
        ? 'something (a symlink?) is already at that name: ctc never writes through it; remove it if it is yours'
        : undefined,
  });
}

/** Writes data to file atomically, never through a symlink; a CT_WRITE naming the file on failure. */
export function writeCallerFile(file: string, data: string, mode = 0o644): void {
  const tmp = tempName(file);
  let fd: number;
  try {
    fd = openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  } catch (e) {
    throw writeError(tmp, codeOf(e) ?? 'EIO');
  }
  try {
    try {
      writeSync(fd, data);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    unlinkSync(tmp); // ours: made by the open above
    throw writeError(file, codeOf(e) ?? 'EIO');
  }
}

/** runc's pid file: the number alone. */
export const writePidFile = (file: string, pid: number) => writeCallerFile(file, String(pid));

/** Appends a line to a log (runc appends to its --log), never through a symlink at the name. */
export function appendLog(file: string, line: string): void {
  const fd = openSync(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, line);
  } finally {
    closeSync(fd);
  }
}

/** A directory the caller names for ctc's files (checkpoint images): made 0700 if missing; a symlink there is refused, not followed. */
export function callerDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw writeError(dir, codeOf(e) ?? 'EIO', 'cannot make the directory');
  }
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw writeError(dir, st.isSymbolicLink() ? 'ELOOP' : 'ENOTDIR', 'will not write into');
}
