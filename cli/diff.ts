// `ctc diff OLD NEW` and `ctc diff REV [REV2] -- SRC...`: what changes in the
// plan, step by step, and which changes widen what the container may do.

import { readFileSync, statSync } from 'node:fs';
import { CtcError } from '../compiler/error.ts';
import { diffPlans } from '../compiler/plan/diff.ts';
import { type FileDiffJson, type Side, diffJson, fileDiffJson } from '../compiler/plan/json.ts';
import { riskNotes } from '../compiler/plan/risk.ts';
import type { Plan } from '../compiler/plan/steps.ts';
import { parsePlan } from '../compiler/plan/text.ts';
import { readPlanText } from '../executor/plan-file.ts';
import { parseCommand } from './args.ts';
import { type Format, parseFormat, renderMarkdown, renderText } from './diff-format.ts';

export const diffHelp = `usage: ctc diff [--format text|json|markdown] OLD NEW
       ctc diff [--format ...] REV [REV2] -- SRC...

Compares two plans step by step: steps added, removed and changed, matched
by what they act on (a mount's destination, a cgroup key, a path), not by
their number; a step that only moved or whose source line changed is the
same step. Changes that widen what the container may do get a risk note
(RISK_CAP_ADDED, RISK_SECCOMP_REMOVED, RISK_HOST_MOUNT, ...) with the new
side's source line; they are printed first.

OLD and NEW are plan files or sources (app.ct.ts, config.json), built in
memory. In the second form each SRC is built as of git revision REV (its
whole tree, so relative imports match) and compared with the working tree,
or with REV2.

  --format text        for a terminal (the default; coloured on a tty
                       unless NO_COLOR is set)
  --format json        compiler/plan/schema/diff.v1.schema.json
  --format markdown    a pull-request comment: counts, risk notes, then the
                       full diff folded in <details>`;

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

export async function loadAtRevision(rev: string, src: string): Promise<Loaded> {
  const { buildAtRevision } = await import('../compiler/revision.ts');
  const { text } = await buildAtRevision(rev, src);
  return { side: { kind: 'revision', path: src, revision: rev }, plan: parsePlan(text, `${src}@${rev}`), text };
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
  if (values.help) return void console.log(diffHelp), 0;
  const format = formatOption(values.format, 'diff');
  const diffs: FileDiffJson[] = [];
  if (dash < 0) {
    if (positionals.length !== 2) throw new CtcError('CT_USAGE', `diff takes OLD and NEW, not ${positionals.length} arguments`, { hint: 'see `ctc diff --help`' });
    diffs.push(compare(await loadSide(positionals[0]), await loadSide(positionals[1])));
  } else {
    const sources = args.slice(dash + 1);
    const [rev, rev2, ...extra] = positionals;
    if (!rev || extra.length || !sources.length) {
      throw new CtcError('CT_USAGE', 'diff with `--` takes one or two revisions before it and sources after it', { hint: 'ctc diff main -- app.ct.ts' });
    }
    for (const src of sources) {
      diffs.push(compare(await loadAtRevision(rev, src), rev2 ? await loadAtRevision(rev2, src) : await loadSide(src)));
    }
  }
  printDiffs(diffs, format);
  return 0;
}
