// `ctc check [SRC...]`: is each committed plan what its source builds to now?
// For CI: the plan a pull request shows is the plan the source makes.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CtcError, CtcErrors } from '../compiler/error.ts';
import { type CheckResultJson, checkJson } from '../compiler/plan/json.ts';
import { parsePlan } from '../compiler/plan/text.ts';
import { type Globals, parseCommand } from './args.ts';
import { compare, formatOption } from './diff.ts';
import { changeLines, noteWhere, painter, renderMarkdown, summary, useColor } from './diff-format.ts';

export const checkHelp = `usage: ctc check [--format text|json|markdown] [SRC...]

Builds each source in memory and compares the result with the plan next to
it (app.ct.ts: app.plan; config.json: config.plan), or under the project
config's planDir, byte for byte. Exits 0
when every plan is up to date, 1 otherwise, listing each stale or missing
plan with a step diff from the committed plan to what the source builds to
now. With no SRC: every .ct.ts, .ct and .json here that has a plan next to it
(a .ct whose .ct.ts twin is here is left out: the two share a plan).

  --format text|json|markdown   as for ctc diff (json: compiler/plan/schema/check.v1.schema.json)`;

const isSource = (f: string) => f.endsWith('.ct.ts') || f.endsWith('.ct') || f.endsWith('.json');

/** The plan of a source: next to it, or under its project's planDir. */
async function planOf(src: string, g: Globals): Promise<string> {
  const { loadProject, planPathFor } = await import('./project.ts');
  return planPathFor(src, await loadProject(dirname(resolve(src)), g));
}

/** The sources here with a plan: the ones that committed to a plan. */
async function sourcesHere(g: Globals): Promise<string[]> {
  const found: string[] = [];
  const here = readdirSync('.');
  const twinned = (f: string) => f.endsWith('.ct') && here.includes(`${f}.ts`);
  for (const f of here.filter((x) => isSource(x) && !twinned(x)).sort()) if (existsSync(await planOf(f, g))) found.push(f);
  if (!found.length) {
    throw new CtcError('CT_PLAN_NONE', 'no source here has a plan next to it', { hint: 'name the sources: `ctc check app.ct.ts`, or `ctc build` one first' });
  }
  return found;
}

function errorOf(e: unknown): CheckResultJson['error'] {
  const errors = e instanceof CtcErrors ? e.errors : e instanceof CtcError ? [e] : undefined;
  if (!errors) throw e; // not a user mistake: a bug, reported as one
  const [{ code, message, source, hint }] = errors;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return { code, message: message + more, ...(source ? { source } : {}), ...(hint ? { hint } : {}) };
}

async function checkOne(src: string, g: Globals): Promise<CheckResultJson> {
  const { build } = await import('../compiler/build.ts');
  const plan = await planOf(src, g);
  let text: string;
  try {
    text = (await build(src)).text;
  } catch (e) {
    return { source: src, plan, status: 'error', error: errorOf(e) };
  }
  if (!existsSync(plan)) return { source: src, plan, status: 'missing' };
  const committed = readFileSync(plan, 'utf8');
  if (committed === text) return { source: src, plan, status: 'ok' };
  let old;
  try {
    old = parsePlan(committed, plan);
  } catch (e) {
    // An edited or unreadable plan is stale too: the fix is the same, `ctc build`.
    return { source: src, plan, status: 'stale', error: errorOf(e) };
  }
  const diff = compare({ side: { kind: 'plan', path: plan }, plan: old, text: committed }, { side: { kind: 'source', path: src }, plan: parsePlan(text, src), text });
  return { source: src, plan, status: 'stale', diff };
}

function renderCheckText(results: CheckResultJson[]): string {
  const paint = painter(useColor());
  const out: string[] = [];
  for (const r of results) {
    const head = `${r.status.padEnd(8)}${r.plan} (from ${r.source})`;
    if (r.status === 'missing') out.push(`${head}: no plan; run \`ctc build ${r.source}\``);
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
  return out.join('\n') + '\n';
}

function renderCheckMarkdown(results: CheckResultJson[]): string {
  const bad = results.filter((r) => r.status !== 'ok');
  const lines = bad.map((r) => `- \`${r.plan}\` (from \`${r.source}\`): ${r.status}${r.error ? ` — ${r.error.code}` : ''}`);
  const head = bad.length ? `**${bad.length} of ${results.length} plans need \`ctc build\`**\n\n${lines.join('\n')}\n\n` : `All ${results.length} plans are up to date.\n\n`;
  const diffs = results.flatMap((r) => (r.diff ? [r.diff] : []));
  return head + (diffs.length ? renderMarkdown(diffs, 'ctc check: stale plans') : '');
}

export async function checkCommand(args: string[], g: Globals): Promise<number> {
  const { values, positionals } = parseCommand('check', args, {
    format: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return void console.log(checkHelp), 0;
  const { argumentDir, configure } = await import('./project.ts');
  await configure(g, await argumentDir(positionals));
  const format = formatOption(values.format, 'check');
  const sources = positionals.length ? positionals : await sourcesHere(g);
  const results: CheckResultJson[] = [];
  for (const src of sources) results.push(await checkOne(src, g));
  if (format === 'json') process.stdout.write(JSON.stringify(checkJson(results), null, 2) + '\n');
  else process.stdout.write(format === 'markdown' ? renderCheckMarkdown(results) : renderCheckText(results));
  const bad = results.filter((r) => r.status !== 'ok');
  if (bad.length) {
    throw new CtcError('CT_PLAN_STALE', `${bad.length} of ${results.length} plans are stale, missing or do not build: ${bad.map((r) => r.plan).join(', ')}`, {
      hint: 'build them again (`ctc build SRC`) and commit the plans with their sources',
    });
  }
  return 0;
}
