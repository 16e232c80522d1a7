// How errors reach people (stderr) and orchestrators (--log, --log-format json).

import { closeSync, constants, fstatSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { appendLog } from '../executor/container/caller-files.ts';
import { CtcError, CtcErrors, errorJson, formatError, visible } from '../common/error.ts';
import type { Globals } from './args.ts';

export function report(err: unknown, globals: Pick<Globals, 'log' | 'logFormat'>): void {
  const errors = err instanceof CtcErrors ? err.errors : err instanceof CtcError ? [err] : undefined;
  if (!errors) {
    // Not a user mistake: a bug in ctc. Show everything.
    process.stderr.write(`ctc: internal error: ${(err as Error)?.stack ?? err}\n`);
    log(globals, { level: 'error', msg: String((err as Error)?.message ?? err) });
    return;
  }
  for (const e of errors) {
    process.stderr.write(`${runcWords(e)}ctc: ${formatError(e)}\n${process.stderr.isTTY ? snippet(e.source) : ''}`);
    log(globals, { level: 'error', msg: runcWords(e) + formatError(e).split('\n')[0], ...errorJson(e) });
  }
}

/**
 * Shims and conmon match runc's text (`strings.Contains` on stderr, the last
 * error line's msg): where runc has words for a failure, they come first,
 * then ctc's own line, unchanged.
 */
const runcWords = (e: CtcError) => (e.runtime ? `${visible(e.runtime)}: ` : ''); // they can quote a config's command

export function log(globals: Pick<Globals, 'log' | 'logFormat'>, entry: Record<string, unknown>): void {
  if (!globals.log) return;
  const line =
    globals.logFormat === 'json'
      ? JSON.stringify({ ...entry, time: new Date().toISOString() })
      : `time="${new Date().toISOString()}" level=${entry.level} msg=${JSON.stringify(entry.msg)}`;
  try {
    appendLog(globals.log, line + '\n');
  } catch {
    // the log is best effort (a symlink at its name is not followed: ELOOP); stderr already has the message
  }
}

/**
 * On a terminal, the source line an error points at, with a caret under its
 * column (as tsc --pretty and rustc show them). The place can come from a
 * plan a stranger wrote, so only a file below the current folder is read —
 * a relative path with no `..`, not through a symlink out of it, a regular
 * file of at most 1 MiB (not /proc's size-0 ones), opened without following
 * a last symlink — and the line is shown with its control characters escaped.
 */
export function snippet(source: string | undefined): string {
  const m = source && /^([^/].*):(\d+):(\d+)$/.exec(source);
  if (!m || m[1].split('/').includes('..')) return '';
  try {
    const cwd = realpathSync('.');
    if (!realpathSync(m[1]).startsWith(`${cwd}/`)) return '';
    const fd = openSync(m[1], constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || st.size === 0 || st.size > 1 << 20) return '';
      const line = readFileSync(fd, 'utf8').split('\n')[Number(m[2]) - 1];
      if (line === undefined) return '';
      const shown = visible(line.replace(/\t/g, ' '));
      return `  | ${shown}\n  | ${' '.repeat(Math.min(Number(m[3]) - 1, shown.length))}^\n`;
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}
