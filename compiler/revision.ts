// A source as of a git revision, built in memory: `ctc diff main -- app.ct.ts`.
// The revision's whole tree is extracted into a temp dir (git archive), so
// the source's relative imports resolve to their versions at that revision
// too, then removed. Plans name sources relative to their own directory, so
// the plan built there names the same files as the working tree's.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { type Built, build } from './build.ts';
import { CtcError } from './error.ts';

function git(cwd: string, args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error) throw new CtcError('CT_GIT', `cannot run git: ${r.error.message}`, { hint: 'ctc diff REV -- SRC needs git on the PATH' });
  return { ok: r.status === 0, out: r.stdout.trim(), err: r.stderr.trim() };
}

/** The repository holding src, and src's path in it (as git names it, with /). */
function locate(src: string): { top: string; path: string } {
  const abs = resolve(src);
  const dir = dirname(abs);
  const top = git(dir, ['rev-parse', '--show-toplevel']);
  if (!top.ok) throw new CtcError('CT_GIT', `${src} is not in a git repository`, { hint: top.err || undefined });
  // realpath on both sides: the temp dir or the repository may be reached through a symlink.
  const path = relative(realpathSync(top.out), join(realpathSync(dir), basename(abs)));
  return { top: top.out, path };
}

export async function buildAtRevision(rev: string, src: string): Promise<Built> {
  const { top, path } = locate(src);
  if (!git(top, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]).ok) {
    throw new CtcError('CT_GIT_REVISION', `'${rev}' is not a revision of ${top}`, { hint: 'a branch, tag or commit: ctc diff main -- app.ct.ts' });
  }
  if (!git(top, ['cat-file', '-e', `${rev}:${path}`]).ok) {
    throw new CtcError('CT_GIT_REVISION', `${path} does not exist at ${rev}`, {
      hint: 'a source new in this change has no old side; `ctc build` it and review the whole plan',
    });
  }
  const tmp = mkdtempSync(join(tmpdir(), 'ctc-rev-'));
  try {
    const archive = join(tmp, '.ctc-archive.tar');
    const made = git(top, ['archive', '--format=tar', '-o', archive, rev]);
    if (!made.ok) throw new CtcError('CT_GIT', `git archive ${rev} failed`, { hint: made.err || undefined });
    const tar = spawnSync('tar', ['-xf', archive, '-C', tmp], { encoding: 'utf8' });
    if (tar.status !== 0) throw new CtcError('CT_GIT', `cannot extract ${rev}: ${tar.stderr || tar.error?.message}`);
    // the tree's top is its project root, as the working tree's .git makes it (compiler/confine.ts)
    mkdirSync(join(tmp, '.git'), { recursive: true });
    return await build(join(tmp, path));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
