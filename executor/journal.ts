// The journal: before a host step changes anything, the action that undoes
// it is appended here (one JSON line each, in the container's state dir).
// Rollback and `delete --force` replay it backwards; every undo is safe to
// repeat, so a crash halfway through an undo is recovered the same way.

import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HookSpec } from './hooks.ts';

/** netns (the net.* entries): the inode of the network namespace ctc ran in, where the undo must run too. */
export type Undo =
  | { undo: 'state.remove'; step: number; dir: string }
  /** parents: the ancestors ctc made for it, removed after it if they are empty */
  | { undo: 'cgroup.remove'; step: number; path: string; parents?: string[] }
  /** cgroup files `ctc update` changed, with what they held before */
  | { undo: 'cgroup.restore'; step: number; files: [string, string | undefined][] }
  | { undo: 'init.kill'; step: number; pid: number; startTime: number }
  /** a bridge ctc may have made: removed if it is marked as ctc's and nothing is attached */
  | { undo: 'net.bridge.release'; step: number; name: string; netns: string }
  /** a veth's host end, deleted only while its ifalias is still this one */
  | { undo: 'net.link.remove'; step: number; name: string; alias: string; netns: string }
  /** a published-ports table, deleted only while its comment names this container */
  | { undo: 'net.unpublish'; step: number; table: string; id: string; netns: string }
  /** an address net.ipam gave out: the file that holds it, removed if it still names this container */
  | { undo: 'net.ipam.release'; step: number; file: string; id: string }
  /** a poststop hook, run as the container is deleted; dir: the state dir, whose state.json it reads */
  | { undo: 'hook.poststop'; step: number; dir: string; hook: HookSpec };

export const journalFile = (stateDir: string) => join(stateDir, 'journal');

export class Journal {
  /** The entries written by this process, also kept in memory (the file may be gone). */
  readonly entries: Undo[] = [];
  private file?: string;

  /** Starts writing to the state dir once it exists; earlier entries are written then. */
  attach(stateDir: string): void {
    this.file = journalFile(stateDir);
    for (const e of this.entries) this.write(e);
  }

  record(entry: Undo): void {
    this.entries.push(entry);
    if (this.file) this.write(entry);
  }

  /**
   * A write reaches the page cache before the change it undoes is made, so a
   * crash of ctc finds it. No fsync: what the journal undoes (cgroups, mounts,
   * processes) does not outlive the machine either.
   */
  private write(entry: Undo): void {
    appendFileSync(this.file!, JSON.stringify(entry) + '\n');
  }
}

export interface JournalRead {
  entries: Undo[];
  /** lines that are not entries (a damaged file): what they undo may still be on the host */
  unreadable: string[];
}

/**
 * The entries of a state dir's journal. A last line without its newline is
 * the entry a crash interrupted: its change was never made (the entry is
 * written first), so it is left out. Any other line that does not read is
 * named in `unreadable`.
 */
export function readJournal(stateDir: string): JournalRead {
  let text: string;
  try {
    text = readFileSync(journalFile(stateDir), 'utf8');
  } catch {
    return { entries: [], unreadable: [] };
  }
  const lines = text.split('\n').slice(0, -1); // the part after the last newline: empty, or torn
  const entries: Undo[] = [];
  const unreadable: string[] = [];
  lines.forEach((line, i) => {
    if (!line) return;
    try {
      const e = JSON.parse(line) as Undo;
      if (typeof e?.undo !== 'string' || typeof e.step !== 'number') throw new Error('not an entry');
      entries.push(e);
    } catch {
      unreadable.push(`line ${i + 1}: ${line.slice(0, 80)}`);
    }
  });
  return { entries, unreadable };
}
