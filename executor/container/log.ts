// A detached container's log (native/wire.h CTC_OP_M_LOG): ctc-init's
// monitor writes the container's stdout and stderr into <state>/ctr.log as
// CRI's records, `TIME STREAM F|P TEXT`, rotating it to ctr.log.1 at a cap.
// Here: when a run asks for one, and reading it back (`ctc logs`).

import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CtcError } from '../../common/error.ts';
import { codeOf } from '../../common/errno.ts';

/** The log is the monitor's file in the state dir (written O_NOFOLLOW): a symlink there is not followed. */
const READ_NOFOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW;

export const logName = 'ctr.log';
/** The bytes a log file may hold before it is rotated (two files at most are kept). */
export const defaultLogCap = 10 * 1024 * 1024;
/** A record is at most 16 KiB of text and its head: a cap below a few of them would rotate every line. */
const minLogCap = 64 * 1024;

/** CTC_LOG_MAX_SIZE (bytes), else 10 MiB. */
export function logCap(env = process.env.CTC_LOG_MAX_SIZE): number {
  if (env === undefined || env === '') return defaultLogCap;
  const n = Number(env);
  if (!Number.isSafeInteger(n) || n < minLogCap) {
    throw new CtcError('CT_USAGE', `CTC_LOG_MAX_SIZE is '${env}': it takes a number of bytes, at least ${minLogCap}`);
  }
  return n;
}

/** Whether fd is /dev/null (the same character device). */
function isDevNull(fd: number): boolean {
  try {
    const s = fstatSync(fd);
    const n = statSync('/dev/null');
    return s.isCharacterDevice() && s.rdev === n.rdev;
  } catch {
    return false;
  }
}

/**
 * A created container gets a log only when its creator gave it no stdio of
 * its own (stdout and stderr are /dev/null, as containerd's null IO does):
 * otherwise the creator's fds are the container's, as with runc, and
 * containerd and conmon read them.
 */
export const callerHasNoOutput = (): boolean => isDevNull(1) && isDevNull(2);

export interface LogRecord {
  time: string;
  stream: 'stdout' | 'stderr';
  /** P: part of a line (no newline follows it when read back) */
  partial: boolean;
  text: Buffer;
}

const space = 0x20;

/** One record (a line of the file, without its newline); undefined if it is not one. */
export function parseRecord(line: Buffer): LogRecord | undefined {
  const a = line.indexOf(space);
  const b = a < 0 ? -1 : line.indexOf(space, a + 1);
  if (b < 0 || line.length < b + 2 || (line.length > b + 2 && line[b + 2] !== space)) return undefined;
  const stream = line.toString('latin1', a + 1, b);
  const tag = String.fromCharCode(line[b + 1]);
  if ((stream !== 'stdout' && stream !== 'stderr') || (tag !== 'F' && tag !== 'P')) return undefined;
  return { time: line.toString('latin1', 0, a), stream, partial: tag === 'P', text: line.subarray(Math.min(line.length, b + 3)) };
}

/** Splits bytes into whole records; the bytes after the last newline are returned as the rest. */
export function splitRecords(bytes: Buffer): { records: LogRecord[]; rest: Buffer } {
  const records: LogRecord[] = [];
  let at = 0;
  for (let nl = bytes.indexOf(10); nl >= 0; nl = bytes.indexOf(10, at)) {
    const r = parseRecord(bytes.subarray(at, nl));
    if (r) records.push(r);
    at = nl + 1;
  }
  return { records, rest: bytes.subarray(at) };
}

function readAll(fd: number, from = 0): Buffer {
  const chunks: Buffer[] = [];
  for (let pos = from; ; ) {
    const b = Buffer.alloc(1 << 16);
    const n = readSync(fd, b, 0, b.length, pos);
    if (n === 0) return Buffer.concat(chunks);
    chunks.push(b.subarray(0, n));
    pos += n;
  }
}

function readFile(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, READ_NOFOLLOW);
  } catch (e) {
    if (codeOf(e) === 'ENOENT') return Buffer.alloc(0);
    throw e;
  }
  try {
    return readAll(fd);
  } finally {
    closeSync(fd);
  }
}

/** The open log of a container's state dir, read so far. */
export interface LogCursor {
  fd: number;
  ino: number;
  pos: number;
  rest: Buffer;
}

/** Everything in the log now (the rotated file first), and a cursor at its end to follow from. */
export function openLog(dir: string, id: string): { records: LogRecord[]; cursor: LogCursor } {
  const path = join(dir, logName);
  let fd: number;
  try {
    fd = openSync(path, READ_NOFOLLOW);
  } catch (e) {
    if (codeOf(e) !== 'ENOENT') throw e;
    throw new CtcError('CT_NO_LOG', `container ${id} has no log`, {
      hint: 'only a container run with -d (or created with its stdout and stderr on /dev/null), without a terminal, has one; the output of the others went to the stdio of whoever started them',
    });
  }
  const older = readFile(`${path}.1`);
  const now = readAll(fd);
  const { records, rest } = splitRecords(
    Buffer.concat([older.length && older[older.length - 1] !== 10 ? Buffer.concat([older, Buffer.from('\n')]) : older, now]),
  );
  return { records, cursor: { fd, ino: fstatSync(fd).ino, pos: now.length, rest } };
}

/**
 * What was added since the cursor: the rest of its file, and when the log
 * was rotated meanwhile, the new file (the cursor moves to it). Call until
 * it returns no records and the file is the same.
 */
export function readMore(dir: string, c: LogCursor): { records: LogRecord[]; rotated: boolean } {
  // Looked at first: once ctr.log is another file, the cursor's takes no more writes.
  let ino = c.ino;
  try {
    ino = lstatSync(join(dir, logName)).ino;
  } catch (e) {
    if (codeOf(e) !== 'ENOENT') throw e; // the container was deleted, or the file is between rename and create
  }
  // a file the writer could not rotate starts over (native/wire.h CTC_OP_M_LOG): from its start then
  if (fstatSync(c.fd).size < c.pos) Object.assign(c, { pos: 0, rest: Buffer.alloc(0) });
  const more = readAll(c.fd, c.pos);
  c.pos += more.length;
  const { records, rest } = splitRecords(Buffer.concat([c.rest, more]));
  c.rest = rest;
  if (ino === c.ino) return { records, rotated: false };
  const fd = openSync(join(dir, logName), READ_NOFOLLOW);
  closeSync(c.fd);
  Object.assign(c, { fd, ino: fstatSync(fd).ino, pos: 0, rest: Buffer.alloc(0) });
  return { records, rotated: true };
}
