// Diffs and checks as JSON, for machines (policy checks, PR bots): what
// `ctc diff --format json` and `ctc check --format json` print. The schemas
// in plan/schema/ describe them (diff.v1, check.v1), and
// test/unit/plan-diff.test.ts and check-command.test.ts validate real output.

import type { PlanDiff, Change } from './diff.ts';
import type { RiskNote } from './risk.ts';
import { type StepJson, stepJson } from '../../plan/json.ts';

export const diffSchemaId = 'urn:ctc:schema:diff.v1';
export const checkSchemaId = 'urn:ctc:schema:check.v1';

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
