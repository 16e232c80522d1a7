// `ctc fmt [--check] FILE…`: the canonical layout of .ct files
// (compiler/frontend/dsl/format.ts). Loads chevrotain only.

import { readFileSync } from 'node:fs';
import { writeCallerFile } from '../executor/container/caller-files.ts';
import { CtcError } from '../common/error.ts';
import { parseCommand } from './args.ts';

export const fmtHelp = `usage: ctc fmt [--check] FILE.ct...

Rewrites each .ct file in the canonical layout: one statement per line, two
spaces per block, comments kept where they are. With --check, writes nothing,
names every file that is not formatted and exits 1 if there is one.`;

export async function fmtCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand('fmt', args, { check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) return (void console.log(fmtHelp), 0);
  if (!positionals.length) throw new CtcError('CT_USAGE', 'fmt takes the .ct files to format', { hint: 'ctc fmt app.ct' });
  const { formatCt } = await import('../compiler/frontend/dsl/format.ts');
  let unformatted = 0;
  for (const file of positionals) {
    if (!file.endsWith('.ct'))
      throw new CtcError('CT_USAGE', `${file} is not a .ct file`, { hint: 'ctc fmt formats the .ct language only' });
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new CtcError('CT_SOURCE_READ', `cannot read ${file}`, { errno: (e as NodeJS.ErrnoException).code });
    }
    const formatted = formatCt(text, file);
    if (formatted === text) continue;
    unformatted++;
    if (values.check) process.stderr.write(`ctc: ${file} is not formatted (ctc fmt ${file})\n`);
    else {
      writeCallerFile(file, formatted); // a symlinked source is replaced, not written through
      process.stderr.write(`ctc: formatted ${file}\n`);
    }
  }
  return values.check && unformatted ? 1 : 0;
}
