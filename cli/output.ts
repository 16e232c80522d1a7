// How errors reach people (stderr) and orchestrators (--log, --log-format json).

import { appendLog } from '../executor/caller-files.ts';
import { CtcError, CtcErrors, errorJson, formatError } from '../compiler/error.ts';
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
    process.stderr.write(`${runcWords(e)}ctc: ${formatError(e)}\n`);
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
