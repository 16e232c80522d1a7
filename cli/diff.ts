// `ctc diff OLD NEW` and `ctc diff REV [REV2] -- SRC...`: what changes in the
// plan, step by step, and which changes widen what the container may do.

import { lstatSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gitTop } from '../compiler/git.ts';
import { type RevisionTree, locate, withRevision } from '../compiler/revision.ts';
import { CtcError } from '../common/error.ts';
import { diffPlans } from '../compiler/review/diff.ts';
import { type FileDiffJson, type Side, diffJson, fileDiffJson } from '../compiler/review/json.ts';
import { riskNotes } from '../compiler/review/risk.ts';
import type { Plan } from '../plan/steps.ts';
import { parsePlan } from '../plan/text.ts';
import { readPlanText } from '../plan/file.ts';
import { parseCommand } from './args.ts';
import { containerSources, isHelper, repositoryFiles } from './repo-sources.ts';
import { type Format, parseFormat, renderMarkdown, renderText } from './diff-format.ts';

export const diffHelp = `usage: ctc diff [--format text|json|markdown] OLD NEW
       ctc diff [--format ...] REV [REV2] [-- SRC...]

Compares two plans step by step: steps added, removed and changed, matched
by what they act on (a mount's destination, a cgroup key, a path), not by
their number; a step that only moved or whose source line changed is the
same step. Changes that widen what the container may do get a risk note
(RISK_CAP_ADDED, RISK_SECCOMP_REMOVED, RISK_HOST_MOUNT, ...) with the new
side's source line; they are printed first.

OLD and NEW are plan files or sources (app.ct.ts, config.json), built in
memory. In the second form each SRC is built as of git revision REV (its
whole tree, so relative imports match) and compared with the working tree,
or with REV2. A source that is not there at REV (new) is compared with the
empty plan: every step added, with its risk notes; one deleted since, the
other way round. Without SRC, every container source (*.ct.ts, *.ct) of the
repository, at REV and now (git's tracked and untracked-not-ignored files),
is built on both sides and each whose steps differ is shown: a change to an
imported helper shows in the sources that import it.

  --format text        for a terminal (the default; coloured on a tty
                       unless NO_COLOR is set)
  --format json        plan/schema/diff.v1.schema.json
  --format markdown    a pull-request comment for all the sources: counts,
                       risk notes, then each full diff folded in <details>

Exit status: 0 when the diffs were made (whatever they show); 1 on an error
(a source that does not build, an unknown revision); 2 a usage error.`;

/** A side of a diff: its plan, and what it was for the output. */
export interface Loaded {
  side: Side;
  plan: Plan;
  text: string;
}

const isPlanFile = (file: string) => file.endsWith('.plan') || readFileSync(file, 'utf8').startsWith('ctc-plan ');

/** A plan file as it is; a source built in memory (the plan it would be built to now). */
export async function loadSide(path: string): Promise<Loaded> {
  if (!statSync(path, { throwIfNoEntry: false })?.isFile()) {
    throw new CtcError('CT_SOURCE_READ', `${path} is not a file`, {
      hint: 'compare plan files or sources; to compare with a git revision: ctc diff REV -- SRC',
    });
  }
  if (isPlanFile(path)) {
    const { plan, text } = readPlanText(path);
    return { side: { kind: 'plan', path }, plan, text };
  }
  const { build } = await import('../compiler/build.ts');
  const { text } = await build(path);
  return { side: { kind: 'source', path }, plan: parsePlan(text, path), text };
}

/** The empty plan: the side of a source that is not there. */
const nothing = (path: string, revision?: string): Loaded => ({
  side: { kind: 'none', path, ...(revision ? { revision } : {}) },
  plan: { version: 1, sources: [], steps: [] },
  text: '',
});

/** Repository path `path` (shown as `shown`) as of a revision's tree: built, or the empty plan if it is not there. */
async function atRevision(tree: RevisionTree, path: string, shown: string): Promise<Loaded> {
  if (!tree.has(path)) return nothing(shown, tree.rev);
  const { text } = await tree.build(path);
  return { side: { kind: 'revision', path: shown, revision: tree.rev }, plan: parsePlan(text, `${shown}@${tree.rev}`), text };
}

/** A source in the working tree: built, or the empty plan if it is not there (deleted). */
async function inWorkTree(src: string): Promise<Loaded> {
  return lstatSync(src, { throwIfNoEntry: false }) ? loadSide(src) : nothing(src);
}

export function compare(old: Loaded, neu: Loaded): FileDiffJson {
  const diff = diffPlans(old.plan, neu.plan);
  return fileDiffJson(old.side, neu.side, diff, riskNotes(diff, old.plan, neu.plan));
}

export function printDiffs(diffs: FileDiffJson[], format: Format, title?: string): void {
  if (format === 'json') process.stdout.write(JSON.stringify(diffJson(diffs), null, 2) + '\n');
  else if (format === 'markdown') process.stdout.write(renderMarkdown(diffs, title));
  else process.stdout.write(renderText(diffs));
}

export function formatOption(value: string | undefined, command: string): Format {
  const format = parseFormat(value);
  if (!format) throw new CtcError('CT_USAGE', `${command}: --format is text, json or markdown, not ${value}`);
  return format;
}

export async function diffCommand(args: string[]): Promise<number> {
  // `--` separates revisions from sources, as in git diff.
  const dash = args.indexOf('--');
  const { values, positionals } = parseCommand('diff', dash < 0 ? args : args.slice(0, dash), {
    format: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return (void console.log(diffHelp), 0);
  const format = formatOption(values.format, 'diff');
  const diffs: FileDiffJson[] = [];
  if (dash < 0 && positionals.length === 2) {
    diffs.push(compare(await loadSide(positionals[0]), await loadSide(positionals[1])));
  } else if (dash < 0 && positionals.length !== 1) {
    throw new CtcError('CT_USAGE', `diff takes OLD and NEW, or REV, not ${positionals.length} arguments`, {
      hint: 'see `ctc diff --help`',
    });
  } else {
    const sources = dash < 0 ? [] : args.slice(dash + 1);
    const [rev, rev2, ...extra] = positionals;
    if (!rev || extra.length) {
      throw new CtcError('CT_USAGE', 'diff with `--` takes one or two revisions before it, and sources after it', {
        hint: 'ctc diff main -- app.ct.ts, or ctc diff main for the whole repository',
      });
    }
    diffs.push(...(await diffRevisions(rev, rev2, sources)));
  }
  printDiffs(diffs, format);
  return 0;
}

/** What a diff compares a revision with: the working tree, or a second revision. */
interface NewSide {
  /** undefined: the working tree */
  rev?: string;
  /** repository paths */
  files: string[];
  load(path: string, shown: string): Promise<Loaded>;
}

/** A source by its repository path, and as this command shows it. */
type Named = { path: string; shown: string };

/** Each source (none: the repository's) as of `rev` against the working tree or `rev2`; each revision extracted once. */
async function diffRevisions(rev: string, rev2: string | undefined, sources: string[]): Promise<FileDiffJson[]> {
  const top = gitTop(process.cwd()) ?? (sources.length ? locate(sources[0]).top : undefined);
  if (top === undefined)
    throw new CtcError('CT_GIT', `${process.cwd()} is not in a git repository`, { hint: 'ctc diff REV compares with a git revision' });
  const named = sources.map((src) => ({ path: locate(src).path, shown: src }));
  return withRevision(rev, top, (old) => {
    if (rev2)
      return withRevision(rev2, top, (tree) =>
        diffTrees(old, { rev: rev2, files: tree.files, load: (p, shown) => atRevision(tree, p, shown) }, named, top),
      );
    const files = repositoryFiles(top).map((f) => relative(top, f));
    return diffTrees(old, { files, load: (_p, shown) => inWorkTree(shown) }, named, top);
  });
}

/** The named sources' diffs; with none named, those of every container source whose steps change. */
async function diffTrees(old: RevisionTree, neu: NewSide, named: Named[], top: string): Promise<FileDiffJson[]> {
  const all = named.length ? named : candidates(old.files, neu.files, top);
  const diffs: FileDiffJson[] = [];
  // Repository-wide, a helper module (no default export) is no container: the empty plan.
  const side = (load: () => Promise<Loaded>, shown: string, rev?: string) =>
    named.length ? load() : load().catch((e) => (isHelper(e) ? nothing(shown, rev) : Promise.reject(e)));
  for (const { path, shown } of all) {
    const [a, b] = [
      await side(() => atRevision(old, path, shown), shown, old.rev),
      await side(() => neu.load(path, shown), shown, neu.rev),
    ];
    if (named.length) diffs.push(compare(a, b));
    else if (a.text !== b.text) diffs.push(...[compare(a, b)].filter((d) => d.changes.length > 0));
  }
  return diffs;
}

/** Every container source on either side, by repository path, shown relative to this folder. */
function candidates(oldFiles: string[], newFiles: string[], top: string): Named[] {
  const paths = [...new Set([...containerSources(oldFiles), ...containerSources(newFiles)])].sort();
  return paths.map((path) => ({ path, shown: relative(process.cwd(), join(top, path)) }));
}
