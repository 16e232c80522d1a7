// The repository as the unit of review: what `ctc check`, `ctc lint` and
// `ctc diff REV` cover when no file is named. In a git work tree, git's
// tracked and untracked-not-ignored files (from the top, wherever the command
// runs); elsewhere, the tree below the current folder. Sources are *.ct.ts and
// *.ct (a .ct beside a .ct.ts of the same name is left out: the .ct.ts owns
// their shared plan), and an X.json whose plan is there (an OCI config that
// committed to a plan: any other .json is not a container). A .ct.ts with no
// default export is a helper module the containers import, not a container:
// the commands that build it leave it out when it has no plan (isHelper). Each source's plan
// is where `ctc build` writes it (cli/project.ts planPathFor); a *.plan no
// source claims is an orphan. Nothing found is executed or followed: git runs
// with fsmonitor off, no folder symlink is entered, and every read later goes
// through compiler/confine.ts.

import { type Dirent, lstatSync, readdirSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { SOURCES_MAX, projectRoot, readConfined } from '../compiler/confine.ts';
import { CtcError, CtcErrors } from '../common/error.ts';
import { git, gitTop } from '../compiler/git.ts';
import type { Globals } from './args.ts';
import type { Project } from './project.ts';

const STEM = /(\.ct\.ts|\.ct|\.json)$/;
const isContainerSource = (f: string) => f.endsWith('.ct.ts') || f.endsWith('.ct');
const isPlan = (f: string) => f.endsWith('.plan');
/** Folders a tree walk never enters: dependencies, and hidden folders (.git, .cache). */
const skipDir = (name: string) => name === 'node_modules' || name.startsWith('.');

/** Paths (absolute) of the files to review: git's view from its top, else the tree below `dir`. */
export function repositoryFiles(dir: string): string[] {
  const top = gitTop(dir);
  if (top === undefined) return walkTree(dir);
  const r = git(top, ['ls-files', '-z', '--cached', '--others', '--exclude-standard']);
  if (!r.ok) throw new CtcError('CT_GIT', `git ls-files failed in ${top}`, { hint: r.err || undefined });
  // --cached lists files deleted from the work tree and, while merging, a path once per stage.
  const paths = [...new Set(r.out.split('\0').filter(Boolean))].map((p) => join(top, p));
  return paths.filter((p) => fileOrLink(p)).sort();
}

/** A regular file, or a symlink (its target is checked when it is read); never a folder, FIFO or device. */
function fileOrLink(path: string): boolean {
  const st = lstatSync(path, { throwIfNoEntry: false });
  return Boolean(st && (st.isFile() || st.isSymbolicLink()));
}

function walkTree(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return; // unreadable folder: nothing of ours
    }
    for (const e of entries) {
      const p = join(d, e.name);
      // isDirectory is false for a symlink to a folder: it is never entered.
      if (e.isDirectory()) {
        if (!skipDir(e.name)) visit(p);
      } else if (e.isFile() || e.isSymbolicLink()) out.push(p);
    }
  };
  visit(resolve(dir));
  return out.sort();
}

/** The container sources among `files` (absolute or repository paths): .ct.ts and .ct, a .ct with a .ct.ts twin left out. */
export function containerSources(files: string[]): string[] {
  const all = new Set(files);
  return files.filter((f) => isContainerSource(f) && !(f.endsWith('.ct') && all.has(`${f}.ts`)));
}

export interface Surveyed {
  /** as the command names it: relative to the current folder */
  source: string;
  plan: string;
  hasPlan: boolean;
}

export interface Survey {
  sources: Surveyed[];
  /** plans no source claims, with the source each would have (.ct.ts) */
  orphans: { plan: string; source: string }[];
  /** plan files found */
  plans: number;
}

const here = (abs: string) => relative(process.cwd(), abs) || '.';

/** Every source of the repository with its plan, and the plans without a source. */
export async function surveyRepository(g?: Globals): Promise<Survey> {
  const { loadProject, planPathFor, sourceDirOfPlan } = await import('./project.ts');
  const projects = new Map<string, Promise<Project>>();
  const projectOf = (dir: string) => {
    if (!projects.has(dir)) projects.set(dir, loadProject(dir, g));
    return projects.get(dir)!;
  };
  const planOf = async (src: string) => resolve(planPathFor(src, await projectOf(dirname(src))));
  const files = repositoryFiles(process.cwd());
  const planFiles = new Set(files.filter(isPlan));
  const claimed = new Map<string, string>(); // plan → source
  for (const src of containerSources(files)) {
    const plan = await planOf(src);
    if (!claimed.has(plan)) claimed.set(plan, src);
  }
  // An X.json is an OCI config only if it committed to a plan no container source claims.
  const planNames = new Set([...planFiles].map((p) => basename(p)));
  for (const json of files.filter((f) => f.endsWith('.json') && planNames.has(basename(f).replace(STEM, '.plan')))) {
    const plan = await planOf(json);
    if (planFiles.has(plan) && !claimed.has(plan)) claimed.set(plan, json);
  }
  // planDir plans may lie outside a tree walk: count each source's plan once, wherever it is.
  const present = (plan: string) => planFiles.has(plan) || fileOrLink(plan);
  const sources = [...claimed].map(([plan, src]) => ({ source: here(src), plan: here(plan), hasPlan: present(plan) }));
  sources.sort((a, b) => a.source.localeCompare(b.source));
  const orphans = [];
  for (const plan of [...planFiles].filter((p) => !claimed.has(p))) {
    const dir = sourceDirOfPlan(plan, await projectOf(dirname(plan)));
    orphans.push({ plan: here(plan), source: here(join(dir, basename(plan).replace(/\.plan$/, '.ct.ts'))) });
  }
  return { sources, orphans, plans: sources.filter((s) => s.hasPlan).length + orphans.length };
}

/** A build's error that says the source is a helper module (no `export default container(...)`), not a container. */
export function isHelper(e: unknown): boolean {
  const errors = e instanceof CtcErrors ? e.errors : [e];
  return errors.length === 1 && errors[0] instanceof CtcError && errors[0].code === 'CT_EXPORT';
}

/** A committed plan's text, or undefined when there is none: read confined to its project, as sources are (compiler/confine.ts). */
export function readCommitted(plan: string): string | undefined {
  if (!lstatSync(plan, { throwIfNoEntry: false })) return undefined;
  return readConfined(plan, { name: plan }, { root: projectRoot(dirname(resolve(plan))), max: SOURCES_MAX });
}

/** CT_PLAN_NONE: the walk found no source and no plan (a CI job in the wrong folder should not pass quietly). */
export function nothingFound(command: string): CtcError {
  return new CtcError('CT_PLAN_NONE', `no container source (*.ct.ts, *.ct) and no plan in ${gitTop(process.cwd()) ?? process.cwd()}`, {
    hint: `run ctc ${command} in the repository, or name the files: \`ctc ${command} app.ct.ts\``,
  });
}
