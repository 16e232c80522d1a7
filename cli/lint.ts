// `ctc lint [PLAN|SRC...]`: policy rules over plans. Findings go to stdout,
// one per line in the style of ctc's errors (or one JSON document); exit 1
// if any finding is an error.

import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CtcError } from '../compiler/error.ts';
import { display, findConfig } from '../compiler/config.ts';
import { lintSetup } from '../compiler/lint/config.ts';
import { type Linted, lintPlans } from '../compiler/lint/index.ts';
import type { LintFinding } from '../compiler/lint/rule.ts';
import { type Globals, parseCommand } from './args.ts';
import { readPlanInput } from './plan-input.ts';

export const lintHelp = `usage: ctc lint [PLAN|SRC...] [--format text|json] [--config FILE]

Checks plans against policy rules. A PLAN is read as it is; a source
(app.ct.ts, config.json) is built in memory first. With no argument, every
*.plan here (or, with a planDir in the project config, there). The rules
and their options come from the ctc config found from each file's folder
up to its project root (ctc.config.json/.yaml, .ctcrc*, or a "ctc" key in
package.json), under "lint"; without one: no-privileged-capabilities,
seccomp-required and no-rw-host-mounts as errors, limits-required (memory,
pids) as a warning.

  --format text|json   findings as lines (default) or one JSON document
  --config FILE        use this config instead of searching for one

Exit status: 1 if any finding is an error, else 0.`;

export async function lintCommand(args: string[], g?: Globals): Promise<number> {
  const { values, positionals } = parseCommand('lint', args, {
    format: { type: 'string', default: 'text' },
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return void console.log(lintHelp), 0;
  const format = values.format;
  if (format !== 'text' && format !== 'json') throw new CtcError('CT_USAGE', `--format is text or json, not ${format}`);
  const files = positionals.length ? positionals : await plansHere(g);
  const linted: Linted[] = [];
  const plans: { plan: string; config: string | null; rules: string[] }[] = [];
  for (const file of files) {
    const target = await readPlanInput(file, g);
    const config = await findConfig(target.sourceDir, values.config ?? g?.config);
    const setup = await lintSetup(config);
    linted.push({ target, setup });
    plans.push({ plan: file, config: setup.file ? display(setup.file) : null, rules: setup.rules.map((r) => r.rule.id) });
  }
  // all plans at once: a plugin's rules run in one sandbox for them all
  const findings: LintFinding[] = lintPlans(linted);
  const errors = findings.filter((f) => f.severity === 'error').length;
  if (format === 'json') console.log(JSON.stringify({ version: 1, plans, findings, errors, warnings: findings.length - errors }, null, 2));
  else printText(findings, plans.length, errors);
  return errors ? 1 : 0;
}

/** The plans here, or with a project planDir, those of this folder's sources there. */
async function plansHere(g?: Globals): Promise<string[]> {
  const { loadProject, planDirFor } = await import('./project.ts');
  const dir = relative(process.cwd(), planDirFor(process.cwd(), await loadProject(process.cwd(), g)));
  const plans = readdirSync(dir || '.').filter((f) => f.endsWith('.plan')).sort().map((f) => join(dir, f));
  if (!plans.length) throw new CtcError('CT_PLAN_NONE', 'no .plan file here', { hint: 'name what to lint: `ctc lint app.plan` or `ctc lint app.ct.ts`' });
  return plans;
}

/** `file:line:col: error RULE: step N kind: message`, as formatError prints errors. */
export function formatFinding(f: LintFinding): string {
  const step = f.step === undefined ? '' : `step ${f.step} ${f.kind}: `;
  return `${f.source ?? f.plan}: ${f.severity} ${f.rule}: ${step}${f.message}`;
}

function printText(findings: LintFinding[], plans: number, errors: number): void {
  for (const f of findings) console.log(formatFinding(f));
  const warnings = findings.length - errors;
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  process.stderr.write(`ctc: ${count(errors, 'error')}, ${count(warnings, 'warning')} in ${count(plans, 'plan')}\n`);
}
