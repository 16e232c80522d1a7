// Finding and reading plan files for `ctc run`.

import { readdirSync, readFileSync } from 'node:fs';
import { CtcError } from '../common/error.ts';
import type { Plan } from './steps.ts';
import { parsePlan } from './text.ts';
import { codeOf } from '../common/errno.ts';

export function readPlanText(file: string): { plan: Plan; text: string } {
  const text = readPlanBytes(file).toString('utf8');
  return { plan: parsePlan(text, file), text };
}

/** The plan's bytes, read once: a signature is checked over exactly what then runs (executor/signing/plan-signature.ts). */
export function readPlanBytes(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new CtcError('CT_PLAN_READ', `cannot read the plan ${file}`, { errno: codeOf(e) });
  }
}

/** The only *.plan in dir, for `ctc run` without an argument. */
export function findPlan(dir = '.'): string {
  const plans = readdirSync(dir)
    .filter((f) => f.endsWith('.plan'))
    .sort();
  if (plans.length === 1) return plans[0];
  if (plans.length === 0) {
    throw new CtcError('CT_PLAN_NONE', 'no .plan file here', { hint: 'build one with `ctc build app.ct.ts`, or name it: `ctc run PLAN`' });
  }
  throw new CtcError('CT_PLAN_AMBIGUOUS', `several plans here: ${plans.join(', ')}`, { hint: 'name the one to run: `ctc run PLAN`' });
}
