// Facts about processes read from /proc: whether a pid is still the process
// ctc started (pids are reused), and its start time.

import { readFileSync } from 'node:fs';

export interface ProcStat {
  state: string;
  ppid: number;
  /** clock ticks since boot: with the pid, identifies one process for good */
  startTime: number;
}

export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], ppid: Number(fields[1]), startTime: Number(fields[19]) };
}

/** Alive and the same process: not exited (a zombie has exited), not a reused pid. */
export function isAlive(pid: number, startTime?: number): boolean {
  if (pid <= 0) return false;
  const st = procStat(pid);
  return st !== undefined && st.state !== 'Z' && st.state !== 'X' && (startTime === undefined || st.startTime === startTime);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the process is gone (or a zombie); false on timeout. */
export async function waitGone(pid: number, startTime: number | undefined, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (isAlive(pid, startTime)) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}
