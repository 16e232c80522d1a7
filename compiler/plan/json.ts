// Plans, diffs and checks as JSON, for machines (policy checks, PR bots).
// Each document names its format and version; the JSON Schemas in
// compiler/plan/schema/ describe them and are versioned with the plan format
// (`ctc-plan 1` ↔ *.v1.schema.json). A change to these shapes is a change to
// the schemas, and test/unit/plan-json.test.ts validates real output.

import type { Change, PlanDiff } from './diff.ts';
import type { RiskNote } from './risk.ts';
import { type ArgValue, type KindSpec, type Plan, type Step, actorOf, stepKinds } from './steps.ts';

export const planSchemaId = 'urn:ctc:schema:plan.v1';
export const diffSchemaId = 'urn:ctc:schema:diff.v1';
export const checkSchemaId = 'urn:ctc:schema:check.v1';

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

/**
 * What one side of a diff was: a plan file, a source built in memory, a
 * source at a git revision, or none (a source new since the revision, or
 * deleted: the empty plan, so every step is added or removed).
 */
export interface Side {
  kind: 'plan' | 'source' | 'revision' | 'none';
  path: string;
  /** for `revision`, and `none` at a revision: the revision as given (main, HEAD~1) */
  revision?: string;
}

export interface FileDiffJson {
  old: Side;
  new: Side;
  counts: PlanDiff['counts'] & { risks: number };
  /** first: what a reviewer must look at */
  risks: RiskNote[];
  changes: (Omit<Change, 'old' | 'new'> & { old?: StepJson; new?: StepJson })[];
}

export function fileDiffJson(old: Side, neu: Side, diff: PlanDiff, risks: RiskNote[]): FileDiffJson {
  return {
    old,
    new: neu,
    counts: { ...diff.counts, risks: risks.length },
    risks,
    changes: diff.changes.map((c) => ({
      ...c,
      old: c.old && stepJson(c.old),
      new: c.new && stepJson(c.new),
    })),
  };
}

export interface DiffJson {
  format: 'ctc-diff';
  version: 1;
  diffs: FileDiffJson[];
}

export const diffJson = (diffs: FileDiffJson[]): DiffJson => ({ format: 'ctc-diff', version: 1, diffs });

/** missing: a source without a plan; orphaned: a plan without a source (its `source` is the one it would have) */
export type CheckStatus = 'ok' | 'stale' | 'missing' | 'orphaned' | 'error';

export interface CheckResultJson {
  source: string;
  plan: string;
  status: CheckStatus;
  /** for `stale`: what changed, the committed plan as old and the source as new */
  diff?: FileDiffJson;
  /** for `error` (the source does not build, the plan does not load) and `stale` with an edited plan */
  error?: { code: string; message: string; source?: string; hint?: string };
}

export interface CheckJson {
  format: 'ctc-check';
  version: 1;
  ok: boolean;
  results: CheckResultJson[];
}

export const checkJson = (results: CheckResultJson[]): CheckJson => ({
  format: 'ctc-check',
  version: 1,
  ok: results.every((r) => r.status === 'ok'),
  results,
});
