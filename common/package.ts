// Where this package lives on disk, found the same way from the bundled CLI
// (dist/), the test bundles (.build/) and the sources.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The npm package's name (package.json). Not `ctc`: that name on the
 * registry is another project's. The command stays `ctc` (package.json bin).
 */
export const PACKAGE_NAME = 'ctc-compiler';

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === PACKAGE_NAME) return (root = dir);
    if (dirname(dir) === dir) throw new Error('ctc: cannot find the ctc package root');
  }
}

/**
 * What to do when dist/ctc-init is missing: the package's install script
 * builds it, and npm may have skipped that script (an npm that runs
 * dependencies' install scripts only once they are allowed).
 */
export const helperMissingHint = `it is built at install: in a clone \`npm run build\`; installed, \`npm rebuild ${PACKAGE_NAME}\` (-g for a global install; an npm that skips install scripts not allowed: see docs/install.md)`;

/** ctc-init, the native helper: the executor's, and the compiler's sandbox. */
export const helperPath = () => join(packageRoot(), 'dist', 'ctc-init');

/** This package's package.json: its version, and the typescript it depends on (what `ctc init` writes down). */
export function packageManifest(): { version: string; dependencies: Record<string, string> } {
  return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8'));
}

export function packageVersion(): string {
  return packageManifest().version;
}
