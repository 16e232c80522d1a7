// `ctc lint`: the active rules over plans, as findings that name the source
// line of the step each is about. ctc's own rules run here; a plugin's run
// in the sandbox, one run per plugin for all the plans (plugins.ts).

import { CtcError } from '../../common/error.ts';
import { display } from '../config.ts';
import { sourcePlace } from '../review/source-place.ts';
import type { Plan } from '../../plan/steps.ts';
import type { ActiveRule, LintSetup } from './config.ts';
import { type Plugin, type PluginCheck, checkPlans } from './plugins.ts';
import type { LintFinding, LintReport, LintRule } from './rule.ts';

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

/** A rule to run over a plan: the plan's index, and the rule's place in its setup (findings of one step keep the rules' order). */
interface Job {
  at: number;
  rank: number;
  active: ActiveRule;
}

/** The findings of each plan in turn, each plan's in the order of its steps. */
export function lintPlans(linted: Linted[]): LintFinding[] {
  const found = linted.map(() => [] as { finding: LintFinding; rank: number }[]);
  const add = ({ at, rank, active }: Job, reports: LintReport[]) =>
    found[at].push(...reports.map((report) => ({ finding: finding(linted[at].target, active, report), rank })));
  const byPlugin = new Map<Plugin, Job[]>();
  linted.forEach(({ setup }, at) =>
    setup.rules.forEach((active, rank) => {
      const job = { at, rank, active };
      if ('plugin' in active.rule) byPlugin.set(active.rule.plugin, [...(byPlugin.get(active.rule.plugin) ?? []), job]);
      else add(job, builtinReports(active.rule, active.options, linted[at]));
    }),
  );
  for (const [plugin, jobs] of byPlugin) {
    const plans = [...new Set(jobs.map((j) => j.at))];
    const jobsOf = plans.map((at) => jobs.filter((j) => j.at === at));
    const checks: PluginCheck[] = plans.map((at, c) => ({
      name: linted[at].target.name,
      plan: linted[at].target.plan,
      rules: jobsOf[c].map(({ active }) => ({ id: active.rule.id, options: active.options })),
    }));
    checkPlans(plugin, checks).forEach((perRule, c) => perRule.forEach((reports, r) => add(jobsOf[c][r], reports)));
  }
  return found.flatMap((f) => f.sort((a, b) => (a.finding.step ?? 0) - (b.finding.step ?? 0) || a.rank - b.rank).map((r) => r.finding));
}

/** One of ctc's own rules over a plan. */
function builtinReports(rule: LintRule, options: Record<string, unknown>, { target, setup }: Linted): LintReport[] {
  try {
    return [...rule.check(target.plan, options as never)];
  } catch (e) {
    throw new CtcError('CT_LINT_RULE', `the rule ${rule.id} failed on ${target.name}: ${(e as Error)?.message ?? e}`, {
      ...(setup.file ? { source: display(setup.file) } : {}),
      hint: 'a rule is code: fix it, or turn it off in the ctc config',
    });
  }
}

function finding({ name, sourceDir }: LintTarget, { rule, severity }: ActiveRule, { message, step }: LintReport): LintFinding {
  const source = step?.source && sourcePlace(step.source, sourceDir).where;
  return {
    rule: rule.id,
    severity,
    message,
    plan: name,
    ...(step ? { step: step.n, kind: step.kind } : {}),
    ...(source ? { source } : {}),
  };
}
