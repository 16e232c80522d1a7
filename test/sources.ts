// Shared by the compiler tests: sources written to a temp dir, and the coded
// errors a build of one throws.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from '../compiler/build.ts';
import { CtcError, CtcErrors } from '../common/error.ts';

/** Writes text to dir/name (parents made); returns the path. */
export function writeSource(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** Every error the build of file reports; fails the test if it builds. */
export async function errorsOf(file: string): Promise<CtcError[]> {
  try {
    await build(file);
  } catch (e) {
    if (e instanceof CtcErrors) return e.errors;
    if (e instanceof CtcError) return [e];
    throw e;
  }
  throw new Error(`${file} built without errors`);
}
