// Plans as JSON, for machines (policy checks, PR bots): what `ctc build
// --json` prints. The document names its format and version; the JSON
// Schemas in plan/schema/ describe it (and the diff and check documents of
// compiler/review/json.ts) and are versioned with the plan format
// (`ctc-plan 1` ↔ *.v1.schema.json). A change to these shapes is a change to
// the schemas, and test/unit/check-command.test.ts validates real output.

import { type ArgValue, type KindSpec, type Plan, type Step, actorOf, stepKinds } from './steps.ts';

export const planSchemaId = 'urn:ctc:schema:plan.v1';

export interface StepJson {
  n: number;
  actor: 'host' | 'init';
  kind: Step['kind'];
  args: Record<string, ArgValue>;
  source?: string;
}

export interface PlanJson {
  format: 'ctc-plan';
  version: 1;
  sources: Plan['sources'];
  steps: StepJson[];
}

const isEmpty = (v: ArgValue | undefined) => v === undefined || v === '' || (Array.isArray(v) && v.length === 0);

/** Arguments as the plan text has them: in the table's order, optional empty ones left out. */
export function stepJson(step: Step): StepJson {
  const args: Record<string, ArgValue> = {};
  for (const a of (stepKinds[step.kind] as KindSpec).args) {
    const v = step.args[a.name];
    if (!(a.optional && isEmpty(v)) && v !== undefined) args[a.name] = v;
  }
  return { n: step.n, actor: actorOf(step.kind), kind: step.kind, args, ...(step.source ? { source: step.source } : {}) };
}

export function planJson(plan: Plan): PlanJson {
  return { format: 'ctc-plan', version: plan.version, sources: plan.sources, steps: plan.steps.map(stepJson) };
}
