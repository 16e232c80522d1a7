// `ctc lint`: the active rules over one plan, as findings that name the
// source line of the step each is about.

import { CtcError } from '../error.ts';
import { display } from '../config.ts';
import { sourcePlace } from '../plan/source-file.ts';
import type { Plan } from '../plan/steps.ts';
import type { LintSetup } from './config.ts';
import type { LintFinding } from './rule.ts';

export interface LintTarget {
  /** the plan file or source, as named on the command line */
  name: string;
  plan: Plan;
  /** the folder the plan's source positions are relative to (the entry source's) */
  sourceDir: string;
}

export function lintPlan({ name, plan, sourceDir }: LintTarget, setup: LintSetup): LintFinding[] {
  const findings: LintFinding[] = [];
  for (const { rule, severity, options } of setup.rules) {
    let reports;
    try {
      reports = [...rule.check(plan, options as never)];
    } catch (e) {
      throw new CtcError('CT_LINT_RULE', `the rule ${rule.id} failed on ${name}: ${(e as Error)?.message ?? e}`, {
        ...(setup.file ? { source: display(setup.file) } : {}),
        hint: 'a rule is code: fix it, or turn it off in the ctc config',
      });
    }
    for (const { message, step } of reports) {
      const source = step?.source && sourcePlace(step.source, sourceDir).where;
      findings.push({ rule: rule.id, severity, message, plan: name, ...(step ? { step: step.n, kind: step.kind } : {}), ...(source ? { source } : {}) });
    }
  }
  return findings.sort((a, b) => (a.step ?? 0) - (b.step ?? 0));
}
