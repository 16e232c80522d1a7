// `ctc lint`: the active rules over plans, as findings that name the source
// line of the step each is about. ctc's own rules run here; a plugin's run
// in the sandbox, one run per plugin for all the plans (plugins.ts).

import { CtcError } from '../error.ts';
import { display } from '../config.ts';
import { sourcePlace } from '../plan/source-file.ts';
import type { Plan, Step } from '../plan/steps.ts';
import type { ActiveRule, LintSetup } from './config.ts';
import { type Plugin, type PluginCheck, checkPlans } from './plugins.ts';
import type { LintFinding, LintRule } from './rule.ts';

export interface LintTarget {
  /** the plan file or source, as named on the command line */
  name: string;
  plan: Plan;
  /** the folder the plan's source positions are relative to (the entry source's) */
  sourceDir: string;
}

/** A plan to lint, with the rules its project's config turns on. */
export interface Linted {
  target: LintTarget;
  setup: LintSetup;
}

interface Report {
  message: string;
  step?: Step;
}

/** A finding and the place of its rule in the setup: findings of one step keep the rules' order. */
type Ranked = { finding: LintFinding; rank: number };

/** The findings of each plan in turn, each plan's in the order of its steps. */
export function lintPlans(linted: Linted[]): LintFinding[] {
  const found = linted.map(() => [] as Ranked[]);
  const add = (at: number, { rule, severity }: ActiveRule, rank: number, reports: Report[]) => {
    const { target } = linted[at];
    found[at].push(...reports.map((report) => ({ finding: finding(target, rule.id, severity, report), rank })));
  };
  const byPlugin = new Map<Plugin, { at: number; rules: [number, ActiveRule][] }[]>();
  linted.forEach(({ target, setup }, at) => {
    const mine = new Map<Plugin, [number, ActiveRule][]>();
    setup.rules.forEach((active, rank) => {
      if ('plugin' in active.rule) mine.set(active.rule.plugin, [...(mine.get(active.rule.plugin) ?? []), [rank, active]]);
      else add(at, active, rank, builtinReports(active.rule, active, target, setup));
    });
    for (const [plugin, rules] of mine) byPlugin.set(plugin, [...(byPlugin.get(plugin) ?? []), { at, rules }]);
  });
  for (const [plugin, jobs] of byPlugin) {
    const checks: PluginCheck[] = jobs.map(({ at, rules }) => ({
      name: linted[at].target.name,
      plan: linted[at].target.plan,
      rules: rules.map(([, a]) => ({ id: a.rule.id, options: a.options })),
    }));
    checkPlans(plugin, checks).forEach((perRule, c) => perRule.forEach((reports, r) => add(jobs[c].at, jobs[c].rules[r][1], jobs[c].rules[r][0], reports)));
  }
  return found.flatMap((f) => f.sort((a, b) => (a.finding.step ?? 0) - (b.finding.step ?? 0) || a.rank - b.rank).map((r) => r.finding));
}

/** One of ctc's own rules over a plan. */
function builtinReports(rule: LintRule, { options }: ActiveRule, { name, plan }: LintTarget, setup: LintSetup): Report[] {
  try {
    return [...rule.check(plan, options as never)];
  } catch (e) {
    throw new CtcError('CT_LINT_RULE', `the rule ${rule.id} failed on ${name}: ${(e as Error)?.message ?? e}`, {
      ...(setup.file ? { source: display(setup.file) } : {}),
      hint: 'a rule is code: fix it, or turn it off in the ctc config',
    });
  }
}

function finding({ name, sourceDir }: LintTarget, rule: string, severity: LintFinding['severity'], { message, step }: Report): LintFinding {
  const source = step?.source && sourcePlace(step.source, sourceDir).where;
  return { rule, severity, message, plan: name, ...(step ? { step: step.n, kind: step.kind } : {}), ...(source ? { source } : {}) };
}
