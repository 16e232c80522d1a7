// git, run to read a repository: `ctc diff REV` and the repository-wide
// check, lint and diff. A repository's own config may name programs
// (core.fsmonitor) that some commands run; ctc turns that one off, and runs
// nothing else that it finds.

import { spawnSync } from 'node:child_process';
import { CtcError } from '../common/error.ts';

export function git(cwd: string, args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync('git', ['-c', 'core.fsmonitor=false', ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error)
    throw new CtcError('CT_GIT', `cannot run git: ${r.error.message}`, {
      hint: 'ctc diff REV and the repository-wide commands need git on the PATH',
    });
  return { ok: r.status === 0, out: r.stdout, err: r.stderr.trim() };
}

/** The top of the git work tree holding `dir`, or undefined outside one (or without git). */
export function gitTop(dir: string): string | undefined {
  try {
    const r = git(dir, ['rev-parse', '--show-toplevel']);
    return r.ok ? r.out.trim() : undefined;
  } catch {
    return undefined;
  }
}
