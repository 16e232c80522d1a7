// How the TypeScript frontend reads a .ct.ts and what it imports: through a
// SourceReader (compiler/confine.ts), confined to the entry's project, with a
// refusal placed at the import or `/// <reference path>` that reached the file.

import { existsSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';
import { SourceReader } from '../confine.ts';
import { CtcError } from '../../common/error.ts';

/** The entry, read (and so checked) first: the reader then reads what it imports. */
export function readSource(entry: string): SourceReader {
  const reader = new SourceReader(entry);
  reader.read(entry, { name: reader.name(entry) });
  return reader;
}

/** A user file's text for the compiler host; `before` are the user files it read already. */
export function readUserFile(reader: SourceReader, file: string, before: ts.SourceFile[]): string {
  try {
    return reader.read(file, { name: reader.name(file) });
  } catch (e) {
    if (!(e instanceof CtcError) || e.source !== undefined) throw e;
    throw new CtcError(e.code, e.message, { source: importSite(file, before, reader), errno: e.errno, hint: e.hint });
  }
}

/**
 * file:line:col of the import that named `file`. The compiler host is not
 * told who asked for a file, and module resolution has followed symlinks, so
 * each import is resolved again and compared by real path.
 */
function importSite(file: string, from: ts.SourceFile[], reader: SourceReader): string | undefined {
  const real = (f: string) => (existsSync(f) ? realpathSync(f) : resolve(f));
  const target = real(file);
  for (const sf of from) {
    const { importedFiles, referencedFiles } = ts.preProcessFile(sf.text, true, true);
    for (const ref of [...importedFiles, ...referencedFiles]) {
      const named = resolve(dirname(sf.fileName), ref.fileName);
      if (!['', '.ts', '.d.ts'].some((ext) => real(named + ext) === target)) continue;
      const { line, character } = sf.getLineAndCharacterOfPosition(ref.pos);
      return `${reader.name(sf.fileName)}:${line + 1}:${character + 1}`;
    }
  }
  return undefined;
}
