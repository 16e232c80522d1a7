// The journal: before a host step changes anything, the action that undoes
// it is appended here (one JSON line each, in the container's state dir).
// Rollback and `delete --force` replay it backwards; every undo is safe to
// repeat, so a crash halfway through an undo is recovered the same way.
// Its first line names the plan by digest: a journal read back from disk is
// acted on only once native/journal-check.c has held every entry to that
// plan (the check the launcher's native delete links in).

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CtcError } from '../../common/error.ts';
import { helperPath } from '../native-bridge/helper.ts';
import type { HookSpec } from '../host/hooks.ts';

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

  /**
   * Starts writing to the state dir once it exists; earlier entries are
   * written then. With the plan's text (a new container): the journal is
   * made, root's alone, its first line the plan's digest (journalHeader).
   */
  attach(stateDir: string, planText?: string): void {
    this.file = journalFile(stateDir);
    if (planText !== undefined) writeFileSync(this.file, journalHeader(planText), { flag: 'wx', mode: 0o600 });
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
    appendFileSync(this.file!, JSON.stringify(entry) + '\n', { mode: 0o600 });
  }
}

/** The first line: the sha256 of the plan file's bytes (native/journal-check.c journal_header). */
export const journalHeader = (planText: string) => `{"plan":"sha256:${createHash('sha256').update(planText).digest('hex')}"}\n`;

/**
 * The entries of <root>/<id>'s journal, as native/journal-check.c allows
 * them: each touches only what the container's plan named (a last line
 * without its newline, the entry a crash interrupted, is left out). These
 * are the lines it printed, not the file read again. Anything else is
 * CT_JOURNAL_CORRUPT, naming the line, and the caller undoes nothing.
 */
export function readJournal(root: string, id: string): Undo[] {
  let out: string;
  try {
    out = execFileSync(helperPath(), ['journal-check', root, id], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 1 << 28,
    });
  } catch (e) {
    const err = e as { status?: number | null; stderr?: string; code?: string };
    if (err.status === undefined || err.status === null) {
      throw new CtcError('CT_HELPER_MISSING', `cannot run ${helperPath()} to check the journal of ${id}`, { errno: err.code });
    }
    throw new CtcError(
      'CT_JOURNAL_CORRUPT',
      `the journal of ${id} is not what its plan allows, so nothing was undone:\n  ${String(err.stderr).trim()}`,
      {
        hint: `each undo may touch only what the container's plan named, and ctc wrote no such line: find out who wrote into ${join(root, id)}, take the line out, and delete again`,
      },
    );
  }
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Undo);
}
