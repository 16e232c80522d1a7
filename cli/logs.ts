// `ctc logs [-f] [--tail N] [-t] ID`: a detached container's log
// (executor/container/log.ts), as docker logs prints it: what the container wrote to
// stdout on stdout, to stderr on stderr; -f follows until it stops.

import { closeSync } from 'node:fs';
import { CtcError, isCtcError } from '../common/error.ts';
import { type LogRecord, openLog, readMore } from '../executor/container/log.ts';
import { type Globals, parseCommand } from './args.ts';
import { factory } from './lifecycle.ts';

const followEvery = 100; // ms between looks at the file while following

function tailCount(value: string | undefined): number {
  if (value === undefined || value === 'all') return Infinity;
  if (!/^\d+$/.test(value)) throw new CtcError('CT_USAGE', `logs: --tail takes a number of lines or 'all', not '${value}'`);
  return Number(value);
}

function printer(timestamps: boolean): (records: LogRecord[]) => void {
  return (records) => {
    for (const r of records) {
      const out = r.stream === 'stdout' ? process.stdout : process.stderr;
      // a part of a line gets no newline: the next part goes on with it, as the container wrote it
      out.write(Buffer.concat([Buffer.from(timestamps ? `${r.time} ` : ''), r.text, Buffer.from(r.partial ? '' : '\n')]));
    }
  };
}

export async function logsCommand(args: string[], g: Globals): Promise<number> {
  const { values, positionals } = parseCommand('logs', args, {
    follow: { type: 'boolean', short: 'f' },
    tail: { type: 'string', short: 'n' },
    timestamps: { type: 'boolean', short: 't' },
  });
  if (positionals.length !== 1)
    throw new CtcError('CT_USAGE', 'logs takes one container id', { hint: 'usage: ctc logs [-f] [--tail N] [-t] ID' });
  const [id] = positionals;
  const tail = tailCount(values.tail);
  const containers = factory(g);
  const dir = containers.load(id).dir;
  // `ctc logs ID | head`: a reader that goes away ends the command, quietly
  for (const s of [process.stdout, process.stderr])
    s.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? process.exit(0) : undefined));
  const emit = printer(values.timestamps === true);
  const { records, cursor } = openLog(dir, id);
  try {
    emit(tail === Infinity ? records : tail === 0 ? [] : records.slice(-tail));
    if (!values.follow) return 0;
    // Looked at before a read: whatever the container wrote before it stopped is read after. A
    // monitor that stayed has written all by then; a writer of its own (the init handed to a
    // shim) may still be at the last lines: one more look, a moment later.
    for (let done = 0; done < 2; ) {
      if (done || finished(() => containers.load(id).finished())) done++;
      for (let more = readMore(dir, cursor); ; more = readMore(dir, cursor)) {
        emit(more.records);
        if (!more.rotated) break;
      }
      if (done < 2) await new Promise((r) => setTimeout(r, followEvery));
    }
    return 0;
  } finally {
    closeSync(cursor.fd);
  }
}

/** A container deleted while its log is followed has finished too. */
function finished(check: () => boolean): boolean {
  try {
    return check();
  } catch (e) {
    if (isCtcError(e) && e.code === 'CT_NOT_FOUND') return true;
    throw e;
  }
}
