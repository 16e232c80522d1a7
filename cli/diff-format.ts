// How `ctc diff` and `ctc check` print plan diffs for people: text for a
// terminal (coloured only there), markdown for a pull-request comment. Both
// render the same JSON documents (plan/json.ts) that --format json
// prints, so the three formats cannot disagree.

import type { ArgChange } from '../compiler/review/diff.ts';
import type { StepJson } from '../plan/json.ts';
import type { FileDiffJson, Side } from '../compiler/review/json.ts';
import type { RiskNote } from '../compiler/review/risk.ts';
import type { Step } from '../plan/steps.ts';
import { printStep } from '../plan/text.ts';

export type Format = 'text' | 'json' | 'markdown';

export const parseFormat = (f: string | undefined): Format | undefined =>
  f === undefined ? 'text' : f === 'text' || f === 'json' || f === 'markdown' ? f : undefined;

/** Colour only for a person at a terminal, and never when NO_COLOR is set (no-color.org). */
export const useColor = () => Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;

export type Paint = (code: number, s: string) => string;
export const painter = (color: boolean): Paint => (color ? (code, s) => `\x1b[${code}m${s}\x1b[0m` : (_, s) => s);
const [RED, GREEN, YELLOW, BOLD] = [31, 32, 33, 1];

export function sideLabel(s: Side): string {
  if (s.kind === 'none') return `${s.path} (none${s.revision ? ` at ${s.revision}` : ''})`;
  return s.kind === 'revision' ? `${s.path} at ${s.revision}` : s.path;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function summary(d: FileDiffJson): string {
  const { added, removed, changed, risks } = d.counts;
  if (added + removed + changed === 0) return 'no changes';
  return `${added} added, ${removed} removed, ${changed} changed; ${plural(risks, 'risk note')}`;
}

/** `app.ct.ts:12:5`, marked when it is not the new side's own step. */
export function noteWhere(n: RiskNote): string {
  const at = n.source ?? '(no source)';
  return n.at === 'new-step' ? at : n.at === 'new-nearby' ? `${at} (near; the step is gone)` : `${at} (old side)`;
}

const line = (s: StepJson) => printStep(s as Step);

function argLines(a: ArgChange): string[] {
  if (a.added || a.removed) {
    return [...(a.added ?? []).map((x) => `    ${a.name}: + ${x}`), ...(a.removed ?? []).map((x) => `    ${a.name}: - ${x}`)];
  }
  const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v));
  return [`    ${a.name}: ${show(a.old)} → ${show(a.new)}`];
}

/** The changes, one block each: `+` added, `-` removed, `~` changed with its arguments. */
export function changeLines(d: FileDiffJson, paint: Paint = painter(false)): string[] {
  return d.changes.flatMap((c) => {
    if (c.type === 'added') return [paint(GREEN, `+ ${line(c.new!)}`)];
    if (c.type === 'removed') return [paint(RED, `- ${line(c.old!)}`)];
    const n = c.new!;
    const head = `~ ${n.n} ${n.actor} ${n.kind}${c.key !== n.kind ? ` (${c.key.slice(n.kind.length + 1)})` : ''}${n.source ? `  # ${n.source}` : ''}`;
    return [paint(YELLOW, head), ...c.args!.flatMap(argLines)];
  });
}

export function renderText(diffs: FileDiffJson[], color = useColor()): string {
  const paint = painter(color);
  const out: string[] = [];
  for (const d of diffs) {
    out.push(paint(BOLD, `${sideLabel(d.old)} → ${sideLabel(d.new)}: ${summary(d)}`));
    for (const r of d.risks) out.push(paint(RED, `  risk ${r.code} ${noteWhere(r)}: ${r.message}`));
    out.push(...changeLines(d, paint).map((l) => `  ${l}`));
  }
  return out.join('\n') + '\n';
}

// ── markdown ────────────────────────────────────────────────────────────────

/** Backslash-escapes what markdown would read as markup (CommonMark: any ASCII punctuation may be escaped). */
const md = (s: string) => s.replace(/[\\`*_{}[\]<>()#+!|~]/g, '\\$&');

/** A code fence longer than any run of backticks inside it. */
function fenced(lang: string, lines: string[]): string[] {
  const longest = Math.max(2, ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((m) => m.length))));
  const fence = '`'.repeat(longest + 1);
  return [fence + lang, ...lines, fence];
}

/** A PR comment: the counts, every risk note first, then each full diff folded away. */
export function renderMarkdown(diffs: FileDiffJson[], title = 'ctc diff'): string {
  const risks = diffs.flatMap((d) => d.risks.map((r) => ({ r, d })));
  const total = (k: keyof FileDiffJson['counts']) => diffs.reduce((sum, d) => sum + d.counts[k], 0);
  const out = [
    `### ${md(title)}`,
    '',
    `**${plural(risks.length, 'risk note')}** · ${total('added')} added · ${total('removed')} removed · ${total('changed')} changed · ${plural(diffs.length, 'plan')}`,
    '',
  ];
  if (risks.length) {
    out.push('#### Risk notes', '');
    for (const { r, d } of risks) out.push(`- **${r.code}** \`${noteWhere(r)}\` (${md(sideLabel(d.new))}): ${md(r.message)}`);
    out.push('');
  }
  for (const d of diffs) {
    const steps = d.changes.length;
    out.push('<details>', `<summary>${escapeHtml(`${sideLabel(d.old)} → ${sideLabel(d.new)}: ${summary(d)}`)}</summary>`, '');
    out.push(...(steps ? fenced('diff', changeLines(d)) : ['No step changes.']), '', '</details>', '');
  }
  return out.join('\n');
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
