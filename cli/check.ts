// `ctc check [SRC...]`: is each committed plan what its source builds to now?
// For CI: the plan a pull request shows is the plan the source makes.

import { lstatSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CtcError, CtcErrors } from '../common/error.ts';
import { type CheckResultJson, checkJson } from '../compiler/review/json.ts';
import { parsePlan } from '../plan/text.ts';
import { type Globals, parseCommand } from './args.ts';
import { compare, formatOption } from './diff.ts';
import { changeLines, noteWhere, painter, renderMarkdown, summary, useColor } from './diff-format.ts';
import { isHelper, nothingFound, readCommitted, surveyRepository } from './repo-sources.ts';

export const checkHelp = `usage: ctc check [--format text|json|markdown] [SRC...]

Builds each source in memory and compares the result with its committed
plan (app.ct.ts: app.plan beside it; config.json: config.plan), or the one
under the project config's planDir, byte for byte.

With no SRC, the whole repository: git's tracked and untracked-not-ignored
files (from the top of the work tree, wherever this runs), or outside git
the tree below this folder (node_modules and hidden folders left out).
Sources there are *.ct.ts and *.ct (a .ct beside a .ct.ts of the same name
is left out: the .ct.ts owns their plan; a .ct.ts without a default export
and without a plan is a helper module, not a container) and an X.json with
its X.plan.
A plan no source claims is orphaned. Paths are relative to this folder.

Prints each source's status (ok, stale with its step diff, new: no plan,
orphaned: no source, error: does not build), then one line:
  N sources, N plans: N stale, N new, N orphaned
(followed by ", N do not build" when some do not).

Exit status: 0 every plan is up to date; 1 any stale, new, orphaned or
failing source (CT_PLAN_STALE), or nothing found (CT_PLAN_NONE); 2 a usage
error.

  --format text|json|markdown   as for ctc diff (json: plan/schema/check.v1.schema.json;
                                the summary line then goes to stderr)`;

/** The plan of a source: next to it, or under its project's planDir. */
async function planOf(src: string, g: Globals): Promise<string> {
  const { loadProject, planPathFor } = await import('./project.ts');
  return planPathFor(src, await loadProject(dirname(resolve(src)), g));
}

function errorOf(e: unknown): CheckResultJson['error'] {
  const errors = e instanceof CtcErrors ? e.errors : e instanceof CtcError ? [e] : undefined;
  if (!errors) throw e; // not a user mistake: a bug, reported as one
  const [{ code, message, source, hint }] = errors;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return { code, message: message + more, ...(source ? { source } : {}), ...(hint ? { hint } : {}) };
}

/** `src` against its plan; undefined for a helper module without a plan, in the repository-wide check (`helpers`). */
async function checkOne(src: string, plan: string, helpers = false): Promise<CheckResultJson | undefined> {
  const { build } = await import('../compiler/build.ts');
  let text: string;
  try {
    text = (await build(src)).text;
  } catch (e) {
    if (helpers && isHelper(e) && !lstatSync(plan, { throwIfNoEntry: false })) return undefined;
    return { source: src, plan, status: 'error', error: errorOf(e) };
  }
  let committed: string | undefined;
  let old;
  try {
    committed = readCommitted(plan);
    if (committed === undefined) return { source: src, plan, status: 'missing' };
    if (committed === text) return { source: src, plan, status: 'ok' };
    old = parsePlan(committed, plan);
  } catch (e) {
    // An edited or unreadable plan is stale too: the fix is the same, `ctc build`.
    return { source: src, plan, status: 'stale', error: errorOf(e) };
  }
  const diff = compare(
    { side: { kind: 'plan', path: plan }, plan: old, text: committed },
    { side: { kind: 'source', path: src }, plan: parsePlan(text, src), text },
  );
  return { source: src, plan, status: 'stale', diff };
}

function renderCheckText(results: CheckResultJson[]): string {
  const paint = painter(useColor());
  const out: string[] = [];
  for (const r of results) {
    const head = `${label(r).padEnd(9)}${r.plan} (from ${r.source})`;
    if (r.status === 'missing') out.push(`${head}: no plan; run \`ctc build ${r.source}\``);
    else if (r.status === 'orphaned') out.push(`${head}: no source; delete the plan, or restore its source`);
    else if (r.error) out.push(`${head}: ${r.error.source ? `${r.error.source}: ` : ''}${r.error.code}: ${r.error.message}`);
    else if (r.status === 'ok') out.push(head);
    else {
      const d = r.diff!;
      const cosmetic = d.changes.length === 0 ? ' (only source positions or digests differ)' : '';
      out.push(`${head}: ${summary(d)}${cosmetic}`);
      for (const n of d.risks) out.push(`  risk ${n.code} ${noteWhere(n)}: ${n.message}`);
      out.push(...changeLines(d, paint).map((l) => `  ${l}`));
    }
  }
  out.push(summaryLine(results));
  return out.join('\n') + '\n';
}

/** What the summary line calls each status: `missing` in JSON (as check.v1 has it) is `new` for people. */
const label = (r: CheckResultJson) => (r.status === 'missing' ? 'new' : r.status);

const planThere = (r: CheckResultJson) => r.status === 'orphaned' || Boolean(lstatSync(r.plan, { throwIfNoEntry: false }));

/** `N sources, N plans: N stale, N new, N orphaned`, for CI logs to grep; `, N do not build` only when some do not. */
export function summaryLine(results: CheckResultJson[]): string {
  const n = (s: CheckResultJson['status']) => results.filter((r) => r.status === s).length;
  const sources = results.length - n('orphaned');
  const plans = results.filter(planThere).length;
  const failing = n('error') ? `, ${n('error')} do not build` : '';
  return `${sources} sources, ${plans} plans: ${n('stale')} stale, ${n('missing')} new, ${n('orphaned')} orphaned${failing}`;
}

function renderCheckMarkdown(results: CheckResultJson[]): string {
  const bad = results.filter((r) => r.status !== 'ok');
  const lines = bad.map((r) => `- \`${r.plan}\` (from \`${r.source}\`): ${label(r)}${r.error ? ` — ${r.error.code}` : ''}`);
  const head = bad.length
    ? `**${bad.length} of ${results.length} plans need \`ctc build\`**\n\n${lines.join('\n')}\n\n`
    : `All ${results.length} plans are up to date.\n\n`;
  return `${summaryLine(results)}\n\n${head}${diffsMarkdown(results)}`;
}

function diffsMarkdown(results: CheckResultJson[]): string {
  const diffs = results.flatMap((r) => (r.diff ? [r.diff] : []));
  return diffs.length ? renderMarkdown(diffs, 'ctc check: stale plans') : '';
}

export async function checkCommand(args: string[], g: Globals): Promise<number> {
  const { values, positionals } = parseCommand('check', args, {
    format: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return (void console.log(checkHelp), 0);
  const { argumentDir, configure } = await import('./project.ts');
  await configure(g, await argumentDir(positionals));
  const format = formatOption(values.format, 'check');
  const results = positionals.length ? await checkNamed(positionals, g) : await checkRepository(g);
  if (format === 'json') {
    process.stdout.write(JSON.stringify(checkJson(results), null, 2) + '\n');
    process.stderr.write(`${summaryLine(results)}\n`);
  } else process.stdout.write(format === 'markdown' ? renderCheckMarkdown(results) : renderCheckText(results));
  const bad = results.filter((r) => r.status !== 'ok');
  if (bad.length) {
    const orphans = bad.some((r) => r.status === 'orphaned') ? ', orphaned' : '';
    throw new CtcError(
      'CT_PLAN_STALE',
      `${bad.length} of ${results.length} plans are stale, missing${orphans} or do not build: ${bad.map((r) => r.plan).join(', ')}`,
      {
        hint: 'build them again (`ctc build SRC`) and commit the plans with their sources; delete an orphaned plan',
      },
    );
  }
  return 0;
}

async function checkNamed(sources: string[], g: Globals): Promise<CheckResultJson[]> {
  const results: CheckResultJson[] = [];
  for (const src of sources) results.push((await checkOne(src, await planOf(src, g)))!);
  return results;
}

/** Every source of the repository (cli/repo-sources.ts), then every plan without a source. */
async function checkRepository(g: Globals): Promise<CheckResultJson[]> {
  const { sources, orphans } = await surveyRepository(g);
  if (!sources.length && !orphans.length) throw nothingFound('check');
  const results: CheckResultJson[] = [];
  for (const s of sources) {
    const r = await checkOne(s.source, s.plan, true);
    if (r) results.push(r);
  }
  for (const o of orphans) results.push({ source: o.source, plan: o.plan, status: 'orphaned' });
  return results;
}
