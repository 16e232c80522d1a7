// Sources as of a git revision, built in memory: `ctc diff main -- app.ct.ts`,
// `ctc diff main`. The revision's whole tree is extracted into a temp dir
// once (git archive), so each source's relative imports resolve to their
// versions at that revision too, then removed. Plans name sources relative to
// their own directory, so a plan built there names the same files as the
// working tree's.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { type Built, build } from './build.ts';
import { CtcError } from '../common/error.ts';
import { git } from './git.ts';

/** The repository holding src, and src's path in it (as git names it, with /). */
export function locate(src: string): { top: string; path: string } {
  const abs = resolve(src);
  const dir = dirname(abs);
  const top = git(dir, ['rev-parse', '--show-toplevel']);
  if (!top.ok) throw new CtcError('CT_GIT', `${src} is not in a git repository`, { hint: top.err || undefined });
  // realpath on both sides: the temp dir or the repository may be reached through a symlink.
  const path = relative(realpathSync(top.out.trim()), join(realpathSync(dir), basename(abs)));
  return { top: top.out.trim(), path };
}

/** A revision's tree, extracted: which files it has, and a source of it built. */
export interface RevisionTree {
  rev: string;
  /** the repository paths (with /) of the revision's files */
  files: string[];
  has(path: string): boolean;
  /** the source at repository path `path`, built as of the revision */
  build(path: string): Promise<Built>;
}

/** Runs `use` with revision `rev` of the repository at `top` extracted, and removes it after. */
export async function withRevision<T>(rev: string, top: string, use: (tree: RevisionTree) => Promise<T>): Promise<T> {
  if (!git(top, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]).ok) {
    throw new CtcError('CT_GIT_REVISION', `'${rev}' is not a revision of ${top}`, {
      hint: 'a branch, tag or commit: ctc diff main -- app.ct.ts',
    });
  }
  const listed = git(top, ['ls-tree', '-r', '-z', '--name-only', `${rev}^{commit}`]);
  if (!listed.ok) throw new CtcError('CT_GIT', `git ls-tree ${rev} failed`, { hint: listed.err || undefined });
  const files = listed.out.split('\0').filter(Boolean);
  const known = new Set(files);
  const tmp = mkdtempSync(join(tmpdir(), 'ctc-rev-'));
  try {
    const archive = join(tmp, '.ctc-archive.tar');
    const made = git(top, ['archive', '--format=tar', '-o', archive, rev]);
    if (!made.ok) throw new CtcError('CT_GIT', `git archive ${rev} failed`, { hint: made.err || undefined });
    const tar = spawnSync('tar', ['-xf', archive, '-C', tmp], { encoding: 'utf8' });
    if (tar.status !== 0) throw new CtcError('CT_GIT', `cannot extract ${rev}: ${tar.stderr || tar.error?.message}`);
    rmSync(archive);
    // the tree's top is its project root, as the working tree's .git makes it (compiler/confine.ts)
    mkdirSync(join(tmp, '.git'), { recursive: true });
    return await use({ rev, files, has: (path) => known.has(path), build: (path) => build(join(tmp, path)) });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
