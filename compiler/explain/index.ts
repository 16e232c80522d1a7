// `ctc explain PLAN STEP`: one step for a reviewer: what it does to the
// kernel (a sentence about its own arguments), the system calls that apply
// it (the step table's), where the source asked for it, and the stdlib
// preset its values come from, said as surely as the plan allows.

import { CtcError } from '../../common/error.ts';
import { type SourcePlace, sourcePlace } from '../review/source-place.ts';
import { type Actor, type KindSpec, type Plan, type StepKind, stepKinds } from '../../plan/steps.ts';
import { printStep } from '../../plan/text.ts';
import { effects } from './effects.ts';
import { derivedSteps, presetOf } from './presets.ts';

export interface Explanation {
  step: number;
  kind: StepKind;
  actor: Actor;
  /** the step's line in the plan */
  line: string;
  effect: string;
  syscalls: readonly string[];
  source?: SourcePlace;
  preset: PresetVerdict;
}

export type PresetVerdict =
  /** named: the source line names the preset (true), does not (false), or could not be read (undefined) */
  { kind: 'preset'; name: string; detail: string; named?: boolean } | { kind: 'lowering'; detail: string } | { kind: 'none' };

export function explainStep(plan: Plan, n: number, planName: string, sourceDir: string): Explanation {
  const step = plan.steps[n - 1];
  if (!Number.isInteger(n) || !step) {
    throw new CtcError('CT_PLAN_STEP', `${planName} has no step ${n}: its steps are 1 to ${plan.steps.length}`, { source: planName });
  }
  const spec = stepKinds[step.kind] as KindSpec;
  const source = step.source === undefined ? undefined : sourcePlace(step.source, sourceDir);
  const effect = (effects[step.kind] as (args: unknown) => string)(step.args);
  return {
    step: n,
    kind: step.kind,
    actor: spec.actor,
    line: printStep(step),
    effect,
    syscalls: spec.syscalls,
    ...(source ? { source } : {}),
    preset: verdict(plan, n, source),
  };
}

function verdict(plan: Plan, n: number, source: SourcePlace | undefined): PresetVerdict {
  const step = plan.steps[n - 1];
  const match = presetOf(step, plan);
  if (match) {
    const named = source?.text === undefined ? undefined : match.mentions.some((m) => source.text!.includes(m));
    return { kind: 'preset', name: match.name, detail: match.detail, ...(named === undefined ? {} : { named }) };
  }
  const derived = derivedSteps[step.kind];
  return derived ? { kind: 'lowering', detail: derived } : { kind: 'none' };
}

/** The explanation for people, a few labelled lines. */
export function formatExplanation(e: Explanation): string {
  const where = e.actor === 'host' ? 'by ctc on the host' : 'by ctc-init, inside the new namespaces';
  // A seccomp step's line holds every rule: the head of it is enough to recognise it.
  const line = e.line.length > 240 ? `${e.line.slice(0, 240)}…` : e.line;
  const lines = [
    `step ${line}`,
    `effect:   ${e.effect}`,
    `syscalls: ${e.syscalls.join(', ')} (${where})`,
    `source:   ${e.source?.where ?? 'not recorded'}`,
    ...(e.source?.text === undefined ? [] : [`          | ${e.source.text.trim()}`]),
    `preset:   ${formatVerdict(e.preset)}`,
  ];
  return lines.join('\n');
}

function formatVerdict(v: PresetVerdict): string {
  switch (v.kind) {
    case 'preset': {
      const how =
        v.named === true
          ? 'the source line names it'
          : v.named === false
            ? 'the source line does not name it: the default ctc applies when the source leaves this field out (or the same values written out)'
            : 'the source file is not at hand to tell whether it names it';
      return `${v.name}: ${v.detail}; ${how}`;
    }
    case 'lowering':
      return `none: ctc's lowering adds this step (${v.detail})`;
    case 'none':
      return "none: the values are the source's own (they match no stdlib preset)";
  }
}
