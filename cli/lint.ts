// `ctc lint [PLAN|SRC...]`: policy rules over plans. Findings go to stdout,
// one per line in the style of ctc's errors (or one JSON document); exit 1
// if any finding is an error.

import { dirname, resolve } from 'node:path';
import { CtcError } from '../common/error.ts';
import { display, findConfig } from '../compiler/config.ts';
import { lintSetup } from '../compiler/lint/config.ts';
import { type Linted, lintPlans } from '../compiler/lint/index.ts';
import type { LintFinding } from '../compiler/lint/rule.ts';
import { type Globals, parseCommand } from './args.ts';
import { type PlanInput, readPlanInput } from './plan-input.ts';
import { type Surveyed, isHelper, nothingFound, readCommitted, surveyRepository } from './repo-sources.ts';

export const lintHelp = `usage: ctc lint [PLAN|SRC...] [--format text|json] [--config FILE]

Checks plans against policy rules. A PLAN is read as it is; a source
(app.ct.ts, config.json) is built in memory first. With no argument, the
whole repository, as ctc check finds it (git's files from the top of the
work tree, else the tree below this folder): every source is built in
memory, never trusting its committed plan (a .ct.ts without a default
export and without a plan is a helper module: left out), and a plan without
a source is read as it is. A plan that is stale, missing or without a source is a
warning (plan-current); ctc check is the gate for that. The rules and their
options come from the ctc config found from each file's folder up to its
project root (ctc.config.json/.yaml, .ctcrc*, or a "ctc" key in
package.json), under "lint"; without one: no-privileged-capabilities,
seccomp-required and no-rw-host-mounts as errors, limits-required (memory,
pids) as a warning.

  --format text|json   findings as lines (default) or one JSON document
  --config FILE        use this config instead of searching for one

Exit status: 1 if any finding is an error (or nothing was found to lint),
else 0.`;

/** One plan to lint: what the command names it by, and how it reads. */
interface Target {
  /** the plan file (for a source: where its plan is, or would be) */
  plan: string;
  source?: string;
  /** undefined: not a container after all (a helper module) */
  read: () => Promise<PlanInput | undefined>;
}

export async function lintCommand(args: string[], g?: Globals): Promise<number> {
  const { values, positionals } = parseCommand('lint', args, {
    format: { type: 'string', default: 'text' },
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return (void console.log(lintHelp), 0);
  const format = values.format;
  if (format !== 'text' && format !== 'json') throw new CtcError('CT_USAGE', `--format is text or json, not ${format}`);
  const current: LintFinding[] = [];
  const targets: Target[] = positionals.length
    ? positionals.map((file) => ({ plan: file, read: () => readPlanInput(file, g) }))
    : await repositoryTargets(current, g);
  const linted: Linted[] = [];
  const plans: { plan: string; source?: string; config: string | null; rules: string[] }[] = [];
  for (const t of targets) {
    const target = await t.read();
    if (!target) continue;
    const config = await findConfig(target.sourceDir, values.config ?? g?.config);
    const setup = await lintSetup(config);
    linted.push({ target, setup });
    plans.push({
      plan: t.plan,
      ...(t.source ? { source: t.source } : {}),
      config: setup.file ? display(setup.file) : null,
      rules: setup.rules.map((r) => r.rule.id),
    });
  }
  // all plans at once: a plugin's rules run in one sandbox for them all
  const findings: LintFinding[] = [...lintPlans(linted), ...current];
  const errors = findings.filter((f) => f.severity === 'error').length;
  if (format === 'json') console.log(JSON.stringify({ version: 1, plans, findings, errors, warnings: findings.length - errors }, null, 2));
  else printText(findings, plans.length, errors);
  return errors ? 1 : 0;
}

/**
 * Every source of the repository, built in memory (a committed plan that is
 * not what it builds to is a warning in `current`), and every plan without a
 * source, as it is.
 */
async function repositoryTargets(current: LintFinding[], g?: Globals): Promise<Target[]> {
  const { sources, orphans } = await surveyRepository(g);
  if (!sources.length && !orphans.length) throw nothingFound('lint');
  const warn = (plan: string, message: string) => current.push({ rule: 'plan-current', severity: 'warning', plan, message });
  const fromSource = ({ source, plan, hasPlan }: Surveyed): Target => ({
    plan,
    source,
    read: async () => {
      const { build } = await import('../compiler/build.ts');
      const built = await build(source).catch((e) => {
        if (!hasPlan && isHelper(e)) return undefined; // a module the containers import
        throw e;
      });
      if (!built) return undefined;
      if (!hasPlan) warn(plan, `${source} has no plan: \`ctc build ${source}\` and commit it`);
      else if (committedText(plan) !== built.text)
        warn(plan, `stale: ${source} builds to another plan, linted here as built; \`ctc build ${source}\``);
      return { name: source, plan: built.plan, sourceDir: dirname(resolve(source)) };
    },
  });
  const orphan = ({ plan, source }: { plan: string; source: string }): Target => ({
    plan,
    read: () => (warn(plan, `no source (${source} is not there): linted as it is`), readPlanInput(plan, g)),
  });
  return [...sources.map(fromSource), ...orphans.map(orphan)];
}

/** The committed plan's text; one that cannot be read (escapes the project, is not text) is simply not current. */
function committedText(plan: string): string | undefined {
  try {
    return readCommitted(plan);
  } catch {
    return undefined;
  }
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
