// How errors reach people (stderr) and orchestrators (--log, --log-format json).

import { lstatSync, readFileSync } from 'node:fs';
import { appendLog } from '../executor/caller-files.ts';
import { CtcError, CtcErrors, errorJson, formatError } from '../common/error.ts';
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
const runcWords = (e: CtcError) => (e.runtime ? `${e.runtime}: ` : '');

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
 * column (as tsc --pretty and rustc show them). Only a regular file by the
 * path the error names; anything else shows nothing.
 */
export function snippet(source: string | undefined): string {
  const m = source && /^(.+):(\d+):(\d+)$/.exec(source);
  if (!m) return '';
  try {
    if (!lstatSync(m[1]).isFile()) return '';
    const line = readFileSync(m[1], 'utf8').split('\n')[Number(m[2]) - 1];
    if (line === undefined) return '';
    const shown = line.replace(/\t/g, ' ');
    return `  | ${shown}\n  | ${' '.repeat(Math.min(Number(m[3]) - 1, shown.length))}^\n`;
  } catch {
    return '';
  }
}
