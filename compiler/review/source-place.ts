// Where a step's source position is on disk. A plan records positions
// relative to its entry source's folder (`hello.ct.ts:8:3`); commands that
// print them for people (lint, explain) make them relative to the current
// directory, and read the line itself, when the file is where that says.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { display } from '../config.ts';

export interface SourcePlace {
  /** file:line:col, relative to the current directory when the file was found */
  where: string;
  /** the text of that line, when the file was found */
  text?: string;
}

export function sourcePlace(source: string, dir: string): SourcePlace {
  const m = /^(.*):(\d+):(\d+)$/.exec(source);
  const file = m && join(dir, m[1]);
  if (!m || !file || !existsSync(file)) return { where: source };
  const text = readFileSync(file, 'utf8').split('\n')[Number(m[2]) - 1];
  return { where: `${display(file)}:${m[2]}:${m[3]}`, ...(text === undefined ? {} : { text }) };
}
